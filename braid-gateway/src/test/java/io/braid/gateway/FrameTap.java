package io.braid.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.ServerFrame;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of a gateway's TCP port that reads the length-prefixed frames
 * passing through it, both ways, and keeps them in the order they passed: what a client sent and
 * what it got, for tests of the client's side of the protocol. A frame is recorded before it is
 * passed on, so a frame the client sent in answer to one it got is recorded after it. The bytes pass
 * unchanged; an end of stream from one side is passed on as one (a half close), so the last frames
 * a client wrote before closing reach the gateway before the end. {@link #cut()} closes the
 * connections open now, both sides. Each connection is two virtual threads.
 */
final class FrameTap implements AutoCloseable {
    /**
     * One frame that passed on connection {@code connection} (1, 2, ... in the order accepted):
     * {@code sent} by the client, or {@code received} from the gateway (the other is null).
     */
    record Passed(int connection, ClientFrame sent, ServerFrame received) {
    }

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Passed> passed = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean closed;

    FrameTap(InetSocketAddress target) {
        this.target = target;
        try {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Thread.ofVirtual().name("frame-tap-accept-" + listener.getLocalPort()).start(this::accept);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    /** The frames the client sent on connection {@code connection}, in order. */
    List<ClientFrame> sent(int connection) {
        return passed.stream().filter(frame -> frame.connection() == connection && frame.sent() != null)
                .map(Passed::sent).toList();
    }

    /** The frames the gateway sent on connection {@code connection}, in order. */
    List<ServerFrame> received(int connection) {
        return passed.stream().filter(frame -> frame.connection() == connection && frame.received() != null)
                .map(Passed::received).toList();
    }

    /** Every frame that passed, both ways, in order. */
    List<Passed> passed() {
        return List.copyOf(passed);
    }

    /** Closes every connection through the tap, both sides. */
    void cut() {
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
        sockets.clear();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            int connection = accepted.incrementAndGet();
            Socket server;
            try {
                server = new Socket(target.getAddress(), target.getPort());
            } catch (IOException e) {
                closeQuietly(client);
                continue;
            }
            sockets.add(client);
            sockets.add(server);
            AtomicInteger pumping = new AtomicInteger(2);
            Thread.ofVirtual().start(() -> pump(connection, client, server, true, pumping));
            Thread.ofVirtual().start(() -> pump(connection, server, client, false, pumping));
        }
    }

    private void pump(int connection, Socket from, Socket to, boolean upstream, AtomicInteger pumping) {
        boolean ended = false;
        try {
            DataInputStream in = new DataInputStream(from.getInputStream());
            DataOutputStream out = new DataOutputStream(to.getOutputStream());
            while (true) {
                int length;
                try {
                    length = in.readInt();
                } catch (EOFException e) {
                    ended = true;
                    break;
                }
                byte[] frame = in.readNBytes(length);
                if (frame.length < length) {
                    break; // cut mid-frame
                }
                record(connection, upstream, frame);
                out.writeInt(length);
                out.write(frame);
                out.flush();
            }
            if (ended) {
                to.shutdownOutput();
            }
        } catch (IOException e) {
            ended = false; // reset, cut, or not a frame
        } finally {
            if (!ended || pumping.decrementAndGet() == 0) {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }
    }

    private void record(int connection, boolean upstream, byte[] frame) throws InvalidProtocolBufferException {
        passed.add(upstream ? new Passed(connection, ClientFrame.parseFrom(frame), null)
                : new Passed(connection, null, ServerFrame.parseFrom(frame)));
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        cut();
    }
}
