package io.braid.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
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

    private final InetSocketAddress upstream;
    private final ServerSocket listener;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition open = lock.newCondition();
    private final AtomicLong accepted = new AtomicLong();
    private volatile boolean blackholed;
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress upstream, ServerSocket listener) {
        this.upstream = upstream;
        this.listener = listener;
        Thread.ofVirtual().name("tcp-proxy-accept-" + listener.getLocalPort()).start(this::acceptLoop);
    }

    /** Starts a proxy on a free 127.0.0.1 port that forwards to {@code host:port}. */
    public static TcpProxy to(String host, int port) {
        try {
            ServerSocket listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getByName(LoopbackPorts.HOST), 0), 128);
            return new TcpProxy(new InetSocketAddress(host, port), listener);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a proxy to " + host + ":" + port, e);
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

    /** {@code scheme://127.0.0.1:port}, e.g. {@code uri("redis")} for a Redis client. */
    public String uri(String scheme) {
        return scheme + "://" + host() + ":" + port();
    }

    /** Connections accepted so far. */
    public long acceptedConnections() {
        return accepted.get();
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
            accepted.incrementAndGet();
            Thread.ofVirtual().name("tcp-proxy-conn-" + port()).start(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Link link = new Link(client, new Socket());
        links.add(link);
        try {
            awaitOpen();
            link.server.connect(upstream, 5_000);
            client.setTcpNoDelay(true);
            link.server.setTcpNoDelay(true);
            if (closed) {
                return;
            }
            Thread up = Thread.ofVirtual().name("tcp-proxy-up-" + port()).start(() -> pump(client, link.server));
            pump(link.server, client);
            up.join();
        } catch (IOException | InterruptedException e) {
            // the connection ends; both ends are reset below
        } finally {
            link.reset();
            links.remove(link);
        }
    }

    /** Copies {@code from} to {@code to} until end of stream (passed on as a FIN) or an error. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[BUFFER];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitOpen();
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException | InterruptedException e) {
            reset(from);
            reset(to);
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

    private record Link(Socket client, Socket server) {
        void reset() {
            TcpProxy.reset(client);
            TcpProxy.reset(server);
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
