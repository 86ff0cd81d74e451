package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.MessageLite;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.util.JsonFormat;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Codec;
import java.nio.charset.StandardCharsets;

/** The codecs every braid client and server knows. */
public final class Codecs {
    private static final Codec PROTOBUF_CODEC = new Binary(Codec.PROTOBUF);
    private static final Codec RAW_CODEC = new Binary(Codec.RAW);
    private static final Codec JSON_CODEC = new Json();

    private Codecs() {
    }

    public static Codec protobuf() {
        return PROTOBUF_CODEC;
    }

    public static Codec raw() {
        return RAW_CODEC;
    }

    public static Codec json() {
        return JSON_CODEC;
    }

    private record Binary(String contentType) implements Codec {
        @Override
        public ByteString encode(Object value) {
            if (value instanceof byte[] bytes) {
                return UnsafeByteOperations.unsafeWrap(bytes);
            }
            if (value instanceof MessageLite message) {
                // The array is ours alone: wrapped, not copied, and without toByteString's builder.
                return UnsafeByteOperations.unsafeWrap(message.toByteArray());
            }
            throw new BraidException(Code.INTERNAL, contentType + " cannot encode " + value.getClass().getName());
        }

        @Override
        public <T> T decode(ByteString bytes, Parser<T> parser) throws Exception {
            // A ByteString never changes, so the message's bytes fields may share its bytes
            // instead of copying them (a payload is copied once, off the wire, not twice).
            com.google.protobuf.CodedInputStream input = bytes.newCodedInput();
            input.enableAliasing(true);
            T message = parser.parseFrom(input);
            input.checkLastTagWas(0);
            return message;
        }
    }

    private static final class Json implements Codec {
        private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
        private final JsonFormat.Parser reader = JsonFormat.parser();

        @Override
        public String contentType() {
            return Codec.JSON;
        }

        @Override
        public ByteString encode(Object value) throws Exception {
            if (value instanceof byte[] bytes) {
                return UnsafeByteOperations.unsafeWrap(bytes);
            }
            if (value instanceof MessageOrBuilder message) {
                return ByteString.copyFromUtf8(printer.print(message));
            }
            throw new BraidException(Code.INVALID_ARGUMENT, Codec.JSON + " needs full protobuf messages, got "
                    + value.getClass().getName());
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T decode(ByteString bytes, Parser<T> parser) throws Exception {
            // The parser of a message type makes its default instance from no bytes at all.
            T empty = parser.parseFrom(ByteString.EMPTY);
            if (!(empty instanceof Message message)) {
                throw new BraidException(Code.INVALID_ARGUMENT, Codec.JSON + " needs full protobuf messages, not "
                        + empty.getClass().getName());
            }
            Message.Builder builder = message.newBuilderForType();
            reader.merge(bytes.toString(StandardCharsets.UTF_8), builder);
            return (T) builder.build();
        }
    }
}
