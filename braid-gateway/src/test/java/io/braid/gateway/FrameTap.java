package io.braid.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.TcpProxy;
import io.braid.testkit.TcpProxy.Direction;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Reads the length-prefixed frames that pass through a braid-testkit {@link TcpProxy} in front of
 * a gateway's TCP port, both ways, and keeps them in the order they passed: what a client sent and
 * what it got, for tests of the client's side of the protocol. Give it to
 * {@code TcpProxy.to(gateway.tcp(), tap)}. A frame is recorded when its last byte passes, before
 * that byte is passed on, so a frame the client sent in answer to one it got is recorded after it.
 * Bytes that are not a frame reset their connection. Thread-safe, as the proxy calls it from every
 * connection's threads.
 */
final class FrameTap implements TcpProxy.Tap {
    /**
     * One frame that passed on connection {@code connection} (1, 2, ... in the order the proxy
     * accepted them): {@code sent} by the client, or {@code received} from the gateway (the other is null).
     */
    record Passed(long connection, ClientFrame sent, ServerFrame received) {
    }

    /** One way of one connection, and the bytes of its frame not yet complete. */
    private record Way(long connection, Direction direction) {
    }

    private final List<Passed> passed = new CopyOnWriteArrayList<>();
    private final Map<Way, ByteArrayOutputStream> partial = new ConcurrentHashMap<>();

    /** The frames the client sent on connection {@code connection}, in order. */
    List<ClientFrame> sent(long connection) {
        return passed.stream().filter(frame -> frame.connection() == connection && frame.sent() != null)
                .map(Passed::sent).toList();
    }

    /** The frames the gateway sent on connection {@code connection}, in order. */
    List<ServerFrame> received(long connection) {
        return passed.stream().filter(frame -> frame.connection() == connection && frame.received() != null)
                .map(Passed::received).toList();
    }

    /** Every frame that passed, both ways, in order. */
    List<Passed> passed() {
        return List.copyOf(passed);
    }

    @Override
    public void passing(long connection, Direction direction, byte[] bytes, int offset, int length) {
        // Called for one way of one connection at a time: its buffer is never shared.
        ByteArrayOutputStream buffer = partial.computeIfAbsent(new Way(connection, direction),
                way -> new ByteArrayOutputStream());
        buffer.write(bytes, offset, length);
        byte[] pending = buffer.toByteArray();
        int at = 0;
        while (pending.length - at >= Integer.BYTES) {
            int frameLength = ByteBuffer.wrap(pending, at, Integer.BYTES).getInt();
            if (frameLength < 0) {
                throw new IllegalStateException("not a frame: length " + frameLength);
            }
            if (pending.length - at - Integer.BYTES < frameLength) {
                break;
            }
            int start = at + Integer.BYTES;
            record(connection, direction, Arrays.copyOfRange(pending, start, start + frameLength));
            at = start + frameLength;
        }
        buffer.reset();
        buffer.write(pending, at, pending.length - at);
    }

    private void record(long connection, Direction direction, byte[] frame) {
        try {
            passed.add(direction == Direction.TO_UPSTREAM ? new Passed(connection, ClientFrame.parseFrom(frame), null)
                    : new Passed(connection, null, ServerFrame.parseFrom(frame)));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("not a frame", e);
        }
    }
}
