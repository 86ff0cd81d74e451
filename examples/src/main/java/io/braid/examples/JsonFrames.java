package io.braid.examples;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.braid.examples.proto.ClientFrame;
import io.braid.examples.proto.ServerFrame;

/**
 * The WebSocket frames between a player and the gateway: {@link ClientFrame} and
 * {@link ServerFrame} in protobuf's JSON mapping (field names in lowerCamelCase, 64-bit numbers as
 * strings), one per text frame. For example {@code {"seq":"3","act":{"action":"click"}}}.
 */
public final class JsonFrames {
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private JsonFrames() {
    }

    public static String print(MessageOrBuilder message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** @throws InvalidProtocolBufferException when {@code json} is not a client frame */
    public static ClientFrame clientFrame(String json) throws InvalidProtocolBufferException {
        ClientFrame.Builder frame = ClientFrame.newBuilder();
        PARSER.merge(json, frame);
        return frame.build();
    }

    /** @throws InvalidProtocolBufferException when {@code json} is not a server frame */
    public static ServerFrame serverFrame(String json) throws InvalidProtocolBufferException {
        ServerFrame.Builder frame = ServerFrame.newBuilder();
        PARSER.merge(json, frame);
        return frame.build();
    }
}
