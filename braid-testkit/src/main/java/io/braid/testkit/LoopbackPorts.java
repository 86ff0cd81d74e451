package io.braid.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks loopback ports for servers. Ports come from below the kernel's ephemeral range, so an
 * outgoing connection of any process cannot take a killed server's port before it restarts;
 * a port is offered only after binding it on 127.0.0.1 succeeded. Another process may still take
 * it before redis-server binds it: the server start detects that and asks for another port.
 */
final class LoopbackPorts {
    static final String HOST = "127.0.0.1";

    private static final int LOWEST = 20_000;
    private static final int DEFAULT_EPHEMERAL_LOW = 32_768;
    private static final int ATTEMPTS = 200;
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    private LoopbackPorts() {
    }

    /** A port that was free on 127.0.0.1 a moment ago. */
    static int pick() {
        int high = ephemeralLow();
        if (high - LOWEST >= 1_000) {
            for (int i = 0; i < ATTEMPTS; i++) {
                int port = ThreadLocalRandom.current().nextInt(LOWEST, high);
                if (isFree(port)) {
                    return port;
                }
            }
        }
        return anyFreePort();
    }

    /** Whether a listener could bind 127.0.0.1:{@code port} right now. */
    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int anyFreePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("cannot find a free port on " + HOST, e);
        }
    }

    /** The first port the kernel hands to outgoing connections (Linux); a common default elsewhere. */
    private static int ephemeralLow() {
        // Read like a stream: Files.readString trusts the size procfs reports and may cut the text.
        try (BufferedReader reader = Files.newBufferedReader(EPHEMERAL_RANGE)) {
            String[] range = reader.readLine().trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW;
        }
    }
}
