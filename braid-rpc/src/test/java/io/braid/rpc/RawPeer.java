package io.braid.rpc;

import io.braid.rpc.internal.wire.Envelope;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;

/** A blocking socket that speaks the wire protocol by hand: no timers, no retries, nothing hidden. */
final class RawPeer implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    RawPeer(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    void send(Envelope envelope) throws IOException {
        byte[] bytes = envelope.toByteArray();
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    Envelope receive() throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return Envelope.parseFrom(bytes);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
