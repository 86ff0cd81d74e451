package io.braid.bench.gateway;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.bench.core.ThisJvm;
import io.braid.bench.core.Usage;
import io.braid.gateway.Gateway;
import io.braid.gateway.GatewayPush;
import io.braid.gateway.RouteTable;
import io.braid.runtime.Braid;
import io.braid.runtime.InMemoryControlPlane;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The serving side of the {@code gateway} section, in a server JVM of its own: one in-memory
 * control plane with a logic node ({@value #ECHO} echoes its request; service {@value #LOGIC}) and
 * two gateway nodes (service {@value #GATEWAY_SERVICE}, TCP front end on loopback), every node and
 * gateway on one event-loop thread. Login: the credentials are the token (not blank).
 *
 * <p>Protocol on stdin/stdout, one line each: it prints {@code ports <gateway A> <gateway B> <logic
 * rpc>} and then {@code ready <gateway A>}; commands: {@code usage} ({@code usage <cpuNanos>
 * <allocatedBytes>}), {@code heap} (two full GCs, then {@code heap <usedBytes> <sessions on A>}),
 * {@code push <sessions> <inFlight> <millis> <payloadBytes>} (pushes from the logic node to tokens
 * {@code p0 .. p<sessions-1>} round robin for that long, each payload starting with
 * {@link System#nanoTime()}; answers {@code pushed <accepted> <failed>}), {@code crash} (gateway A
 * crashes and its node closes; answers {@code crashed}), {@code exit}.
 */
public final class GatewayServerMain {
    static final String LOGIC = "logic";
    static final String ECHO = "player.echo";
    static final String ROUTE = LOGIC + "." + ECHO;
    static final String GATEWAY_SERVICE = "gateway";
    static final String HOST = "127.0.0.1";

    private GatewayServerMain() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        InMemoryControlPlane plane = new InMemoryControlPlane("gateway-bench-" + UUID.randomUUID());
        Braid logic = Braid.builder().service(LOGIC).nodeId("logic-1").host(HOST).ioThreads(1).inMemory(plane)
                .handleBytes(ECHO, (ctx, request) -> request).start();
        Braid nodeA = gatewayNode(plane, "gateway-a");
        Braid nodeB = gatewayNode(plane, "gateway-b");
        Gateway gatewayA = gateway(nodeA);
        Gateway gatewayB = gateway(nodeB);
        GatewayPush pusher = GatewayPush.of(logic.client(), GATEWAY_SERVICE);
        try {
            out.println("ports " + gatewayA.tcpAddress().orElseThrow().getPort() + " "
                    + gatewayB.tcpAddress().orElseThrow().getPort() + " " + logic.node().port());
            out.println("ready " + gatewayA.tcpAddress().orElseThrow().getPort());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.equals("exit")) {
                String[] words = line.split(" ");
                switch (words[0]) {
                    case "usage" -> {
                        Usage usage = ThisJvm.METER.read();
                        out.printf(Locale.ROOT, "usage %d %d%n", usage.cpuNanos(), usage.allocatedBytes());
                    }
                    case "heap" -> out.printf(Locale.ROOT, "heap %d %d%n", usedHeapAfterGc(), gatewayA.sessionCount());
                    case "push" -> {
                        long[] counts = push(pusher, Integer.parseInt(words[1]), Integer.parseInt(words[2]),
                                Duration.ofMillis(Long.parseLong(words[3])), Integer.parseInt(words[4]));
                        out.printf(Locale.ROOT, "pushed %d %d%n", counts[0], counts[1]);
                    }
                    case "crash" -> {
                        gatewayA.crash();
                        nodeA.close();
                        out.println("crashed");
                    }
                    default -> out.println("error unknown command " + line);
                }
            }
        } finally {
            gatewayB.close();
            gatewayA.close();
            nodeB.close();
            nodeA.close();
            logic.close();
        }
        System.exit(0);
    }

    private static Braid gatewayNode(InMemoryControlPlane plane, String id) {
        return Braid.builder().service(GATEWAY_SERVICE).nodeId(id).host(HOST).ioThreads(1).inMemory(plane).start();
    }

    /**
     * A gateway as a game would run it, with the per-player rate limits raised out of the way: the
     * bench's players call as fast as the answers come.
     */
    private static Gateway gateway(Braid node) {
        return Gateway.builder(node)
                .login((credentials, remote) -> credentials.length == 0
                        ? CompletableFuture.failedFuture(new BraidException(Code.UNAUTHENTICATED, "empty credentials"))
                        : CompletableFuture.completedFuture(new String(credentials, StandardCharsets.UTF_8)))
                .routes(RouteTable.of(ROUTE))
                .host(HOST)
                .tcp(0)
                .nodeEventLoops()
                .callRateLimit(1_000_000, 1_000_000)
                .byteRateLimit(1 << 30, 1 << 30)
                .start();
    }

    static long usedHeapAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 2; i++) {
            System.gc();
            TimeUnit.MILLISECONDS.sleep(100); // lets reference processing and cleaners run between the two
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** A closed loop of pushes, {@code inFlight} at once, tokens round robin; {accepted, failed}. */
    private static long[] push(GatewayPush pusher, int sessions, int inFlight, Duration length, int payloadBytes)
            throws InterruptedException {
        AtomicLong accepted = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong next = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        CountDownLatch stopped = new CountDownLatch(inFlight);
        for (int i = 0; i < inFlight; i++) {
            pushNext(pusher, sessions, payloadBytes, accepted, failed, next, running, stopped);
        }
        TimeUnit.NANOSECONDS.sleep(length.toNanos());
        running.set(false);
        if (!stopped.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("pushes did not end within 30 s");
        }
        return new long[] {accepted.get(), failed.get()};
    }

    private static void pushNext(GatewayPush pusher, int sessions, int payloadBytes, AtomicLong accepted,
            AtomicLong failed, AtomicLong next, AtomicBoolean running, CountDownLatch stopped) {
        if (!running.get()) {
            stopped.countDown();
            return;
        }
        byte[] payload = new byte[Math.max(Long.BYTES, payloadBytes)];
        ByteBuffer.wrap(payload).putLong(System.nanoTime());
        String token = GatewaySuite.token((int) (next.getAndIncrement() % sessions));
        CompletableFuture<Long> push = pusher.push(token, payload);
        Runnable then = () -> {
            (push.isCompletedExceptionally() ? failed : accepted).incrementAndGet();
            pushNext(pusher, sessions, payloadBytes, accepted, failed, next, running, stopped);
        };
        if (push.isDone()) {
            CompletableFuture.runAsync(then); // ended at once (refused): no recursion on this stack
        } else {
            push.whenComplete((seq, error) -> then.run());
        }
    }
}
