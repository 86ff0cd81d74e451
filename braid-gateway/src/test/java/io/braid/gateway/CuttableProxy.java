package io.braid.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of a gateway, for tests that take a client's connection away
 * under it: {@link #cut()} closes every connection through it (the client and the gateway both see
 * their socket close), {@link #refuse(boolean)} closes new connections at once (the client's
 * reconnect fails), {@link #swallowUpstream(boolean)} stops passing the client's bytes on (they are
 * counted and dropped: the gateway never sees them), {@link #silence()} makes the connections open
 * now pass nothing either way while staying open (a half-open path; new connections pass).
 * Each connection is two virtual threads
 * copying bytes. Closing it cuts everything and stops listening.
 */
final class CuttableProxy implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final java.util.Set<Socket> silenced = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong swallowed = new AtomicLong();
    private volatile boolean refusing;
    private volatile boolean swallowing;
    private volatile boolean swallowingDownstream;
    private volatile boolean closed;

    CuttableProxy(InetSocketAddress target) {
        this.target = target;
        try {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Thread.ofVirtual().name("proxy-accept-" + listener.getLocalPort()).start(this::accept);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
    }

    /** How many connections the proxy accepted (refused ones included). */
    long accepted() {
        return accepted.get();
    }

    /** How many client bytes {@link #swallowUpstream} dropped. */
    long swallowed() {
        return swallowed.get();
    }

    void refuse(boolean refuse) {
        this.refusing = refuse;
    }

    void swallowUpstream(boolean swallow) {
        this.swallowing = swallow;
    }

    /** Stops (or resumes) passing the gateway's bytes to the client: a lost answer, the gateway's socket open. */
    void swallowDownstream(boolean swallow) {
        this.swallowingDownstream = swallow;
    }

    /** The connections open now pass no more bytes, either way, and stay open. */
    void silence() {
        silenced.addAll(sockets);
    }

    /** Closes every connection through the proxy, both sides. */
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
            accepted.incrementAndGet();
            if (refusing) {
                closeQuietly(client);
                continue;
            }
            Socket server;
            try {
                server = new Socket(target.getAddress(), target.getPort());
            } catch (IOException e) {
                closeQuietly(client);
                continue;
            }
            sockets.add(client);
            sockets.add(server);
            Thread.ofVirtual().start(() -> pump(client, server, true));
            Thread.ofVirtual().start(() -> pump(server, client, false));
        }
    }

    private void pump(Socket from, Socket to, boolean upstream) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                if ((upstream ? swallowing : swallowingDownstream) || silenced.contains(from)) {
                    swallowed.addAndGet(read);
                    continue;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
            silenced.remove(from);
            silenced.remove(to);
        }
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
