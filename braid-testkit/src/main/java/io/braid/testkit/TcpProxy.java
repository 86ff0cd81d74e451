package io.braid.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP proxy on a free loopback port in front of one upstream address, whose link can be cut
 * the way real networks cut it: {@link #blackhole()} stops every byte in both directions while
 * every socket stays open (no FIN, no RST: the code under test learns of it only through its own
 * timeouts and liveness checks), and {@link #restore()} lets the held bytes through again,
 * intact and in order, as TCP retransmission does after a partition heals. {@link #resetAll()}
 * is the other kind of cut: every connection is reset at once.
 *
 * <p>While black-holed, new connections are accepted but never reach the upstream (a client sees
 * a connection that never answers, like a SYN lost in a black hole that a load balancer answered).
 * Traffic stays on 127.0.0.1. Threads are virtual, two per connection; {@link #close()} ends them.
 *
 * <p>Finer faults, for tests of a client's side of a protocol: {@link #closeAll()} ends every
 * connection with a FIN to both ends instead of a reset; {@link #refuse(boolean)} closes each new
 * connection at once (a reconnect fails); {@link #drop(Direction, boolean)} discards the bytes going
 * one way (a request or an answer lost, the sockets open); {@link #silenceAll()} makes the
 * connections open now drop everything both ways for good while new ones pass (half-open
 * connections). A {@link Tap} given to {@link #to(InetSocketAddress, Tap)} sees every byte that
 * passes, before it is passed on.
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.start(); TcpProxy proxy = TcpProxy.to(redis.host(), redis.port())) {
 *     Braid node = Braid.builder().service("logic").redis(proxy.uri("redis")).start();
 *     proxy.blackhole();   // node -> Redis: silent
 *     proxy.restore();
 * }
 * }</pre>
 */
public final class TcpProxy implements AutoCloseable {
    private static final int BUFFER = 16 * 1024;

    /** Which way bytes go through the proxy. */
    public enum Direction {
        /** From a client to the upstream. */
        TO_UPSTREAM,
        /** From the upstream back to a client. */
        TO_CLIENT
    }

    /**
     * Sees the bytes that pass through the proxy, each chunk before it is passed on (so a byte a
     * peer sends in answer to one it got is seen after it). Called on the connection's own thread:
     * one call at a time for each connection and direction, concurrently across them; bytes held by
     * a black hole are seen when they pass, dropped ones never. A tap that throws resets the
     * connection. It must not keep {@code bytes}, which the proxy reuses.
     */
    @FunctionalInterface
    public interface Tap {
        /**
         * {@code length} bytes from {@code offset} pass on connection {@code connection} (1, 2, ...
         * in the order accepted, as {@link #acceptedConnections()} counts them) going {@code direction}.
         */
        void passing(long connection, Direction direction, byte[] bytes, int offset, int length);
    }

    private final InetSocketAddress upstream;
    private final Tap tap;
    private final ServerSocket listener;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition open = lock.newCondition();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean blackholed;
    private volatile boolean refusing;
    private volatile boolean droppingToUpstream;
    private volatile boolean droppingToClient;
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress upstream, Tap tap, ServerSocket listener) {
        this.upstream = upstream;
        this.tap = tap;
        this.listener = listener;
        Thread.ofVirtual().name("tcp-proxy-accept-" + listener.getLocalPort()).start(this::acceptLoop);
    }

    /** Starts a proxy on a free 127.0.0.1 port that forwards to {@code host:port}. */
    public static TcpProxy to(String host, int port) {
        return to(new InetSocketAddress(host, port));
    }

    /** Starts a proxy on a free 127.0.0.1 port that forwards to {@code upstream}. */
    public static TcpProxy to(InetSocketAddress upstream) {
        return to(upstream, (connection, direction, bytes, offset, length) -> { });
    }

    /** Starts a proxy on a free 127.0.0.1 port that forwards to {@code upstream} and shows {@code tap} what passes. */
    public static TcpProxy to(InetSocketAddress upstream, Tap tap) {
        Objects.requireNonNull(tap, "tap");
        try {
            ServerSocket listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getByName(LoopbackPorts.HOST), 0), 128);
            return new TcpProxy(upstream, tap, listener);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a proxy to " + upstream, e);
        }
    }

    /** The proxy's port on 127.0.0.1. */
    public int port() {
        return listener.getLocalPort();
    }

    /** The proxy's host, 127.0.0.1. */
    public String host() {
        return LoopbackPorts.HOST;
    }

    /** The proxy's address, 127.0.0.1 and {@link #port()}, for clients that take one. */
    public InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), port());
    }

    /** {@code scheme://127.0.0.1:port}, e.g. {@code uri("redis")} for a Redis client. */
    public String uri(String scheme) {
        return scheme + "://" + host() + ":" + port();
    }

    /** Connections accepted so far, refused ones included. */
    public long acceptedConnections() {
        return accepted.get();
    }

    /** Bytes discarded so far by {@link #drop(Direction, boolean)} and {@link #silenceAll()}. */
    public long droppedBytes() {
        return dropped.get();
    }

    /** Connections open now. */
    public int openConnections() {
        return links.size();
    }

    /** Whether bytes are being held. */
    public boolean isBlackholed() {
        return blackholed;
    }

    /** Holds every byte in both directions from now on; no socket is closed. Idempotent. */
    public void blackhole() {
        blackholed = true;
    }

    /** Lets bytes through again, held ones first. Idempotent. */
    public void restore() {
        lock.lock();
        try {
            blackholed = false;
            open.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Resets every open connection (RST to both ends); new connections are accepted as usual. */
    public void resetAll() {
        for (Link link : links) {
            link.reset();
        }
    }

    /**
     * Closes every open connection with a FIN to both ends (each reads end of stream, as when a
     * server or a load balancer closes its connections; the kernel sends a reset instead where
     * bytes the proxy has not read yet are waiting); new connections are accepted as usual.
     */
    public void closeAll() {
        for (Link link : links) {
            link.close();
        }
    }

    /**
     * While {@code refuse} is true, each new connection is accepted and closed at once (FIN) before
     * it reaches the upstream: a client's connect or reconnect fails. Open connections are left alone.
     */
    public void refuse(boolean refuse) {
        refusing = refuse;
    }

    /**
     * While {@code drop} is true, the bytes going {@code direction} on every connection, open and
     * new, are read and discarded (counted in {@link #droppedBytes()}), every socket left open: the
     * peer never gets what was sent meanwhile, and never learns it was lost.
     */
    public void drop(Direction direction, boolean drop) {
        if (direction == Direction.TO_UPSTREAM) {
            droppingToUpstream = drop;
        } else {
            droppingToClient = drop;
        }
    }

    /**
     * The connections open now drop every byte both ways from now on (counted in
     * {@link #droppedBytes()}) and stay open: half-open, neither end hears of it (as when a NAT
     * forgets its connections). New connections pass as usual.
     */
    public void silenceAll() {
        for (Link link : links) {
            link.silenced = true;
        }
    }

    /** Stops listening and resets every connection. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        restore();
        resetAll();
    }

    @Override
    public String toString() {
        return "TcpProxy[" + host() + ":" + port() + " -> " + upstream.getHostString() + ":" + upstream.getPort()
                + (blackholed ? ", black-holed" : "") + "]";
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (closed) {
                // A virtual thread's accept may still take a connection the kernel queued just
                // after close(): the proxy takes none once closed.
                close(client);
                return;
            }
            long id = accepted.incrementAndGet();
            if (refusing) {
                close(client);
                continue;
            }
            Thread.ofVirtual().name("tcp-proxy-conn-" + port()).start(() -> connect(id, client));
        }
    }

    private void connect(long id, Socket client) {
        Link link = new Link(id, client, new Socket());
        links.add(link);
        try {
            awaitOpen();
            link.server.connect(upstream, 5_000);
            client.setTcpNoDelay(true);
            link.server.setTcpNoDelay(true);
            if (closed) {
                return;
            }
            Thread up = Thread.ofVirtual().name("tcp-proxy-up-" + port())
                    .start(() -> pump(link, Direction.TO_UPSTREAM));
            pump(link, Direction.TO_CLIENT);
            up.join();
        } catch (IOException | InterruptedException e) {
            // the connection ends; both ends are reset below
        } finally {
            link.reset();
            links.remove(link);
        }
    }

    /** Copies one way until end of stream (passed on as a FIN) or an error (both ends then go). */
    private void pump(Link link, Direction direction) {
        Socket from = direction == Direction.TO_UPSTREAM ? link.client : link.server;
        Socket to = direction == Direction.TO_UPSTREAM ? link.server : link.client;
        byte[] buffer = new byte[BUFFER];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitOpen();
                if (link.silenced || (direction == Direction.TO_UPSTREAM ? droppingToUpstream : droppingToClient)) {
                    dropped.addAndGet(n);
                    continue;
                }
                tap.passing(link.id, direction, buffer, 0, n);
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException | InterruptedException | RuntimeException e) {
            link.reset();
        }
    }

    private void awaitOpen() throws InterruptedException {
        if (!blackholed) {
            return;
        }
        lock.lock();
        try {
            while (blackholed && !closed) {
                open.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** One connection through the proxy: the client's socket and the one to the upstream. */
    private static final class Link {
        final long id;
        final Socket client;
        final Socket server;
        volatile boolean silenced;
        /** Set by {@link #close()}: the ends go with a FIN, also when a pump's error comes first. */
        private volatile boolean closing;

        Link(long id, Socket client, Socket server) {
            this.id = id;
            this.client = client;
            this.server = server;
        }

        void reset() {
            if (closing) {
                close();
                return;
            }
            TcpProxy.reset(client);
            TcpProxy.reset(server);
        }

        void close() {
            closing = true;
            TcpProxy.close(client);
            TcpProxy.close(server);
        }
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0); // close with RST, as a dropped connection does
        } catch (SocketException ignored) {
            // already closed or never connected
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
