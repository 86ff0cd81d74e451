package io.braid.bench.gateway;

import io.braid.bench.core.Pinning;
import io.braid.bench.core.Usage;
import io.braid.bench.rpc.ServerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@link GatewayServerMain} JVM seen from the bench JVM: started on the server core with the
 * bench JVM's flags and class path (as {@link ServerProcess} starts its servers), its ports, and
 * its commands. Closing it stops the JVM.
 */
final class GatewayServer implements AutoCloseable {
    private static final long START_TIMEOUT_SECONDS = 60;

    private final Process process;
    private final BufferedReader replies;
    private final PrintStream commands;
    private final int portA;
    private final int portB;
    private final int logicPort;

    private GatewayServer(Process process, BufferedReader replies, PrintStream commands, int[] ports) {
        this.process = process;
        this.replies = replies;
        this.commands = commands;
        this.portA = ports[0];
        this.portB = ports[1];
        this.logicPort = ports[2];
    }

    static GatewayServer start() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ServerProcess.jvmFlags());
        String extra = System.getProperty(ServerProcess.EXTRA_FLAGS_PROPERTY, "").strip();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), GatewayServerMain.class.getName()));
        Process process = new ProcessBuilder(Pinning.onServerCore(command))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
            try {
                if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly(); // still starting: kill it so the read below ends
                }
            } catch (InterruptedException e) {
                // started in time
            }
        });
        try {
            BufferedReader replies = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            PrintStream commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            String ports = next(replies, "ports ");
            if (ports == null || next(replies, "ready ") == null) {
                process.destroyForcibly();
                throw new IllegalStateException("the gateway server JVM did not start (exit " + process.waitFor()
                        + "); its errors are above");
            }
            String[] fields = ports.split(" ");
            return new GatewayServer(process, replies, commands, new int[] {Integer.parseInt(fields[1]),
                    Integer.parseInt(fields[2]), Integer.parseInt(fields[3])});
        } catch (IOException | RuntimeException e) {
            process.destroyForcibly();
            throw e;
        } finally {
            watchdog.interrupt();
        }
    }

    InetSocketAddress gatewayA() {
        return new InetSocketAddress(GatewayServerMain.HOST, portA);
    }

    InetSocketAddress gatewayB() {
        return new InetSocketAddress(GatewayServerMain.HOST, portB);
    }

    int logicPort() {
        return logicPort;
    }

    /** CPU time and allocation of the whole server JVM. */
    Usage.Meter meter() {
        return () -> {
            String[] fields = ask("usage", "usage ");
            return new Usage(Long.parseLong(fields[1]), Long.parseLong(fields[2]));
        };
    }

    /** {used heap after two full GCs, sessions on gateway A}. */
    long[] heap() {
        String[] fields = ask("heap", "heap ");
        return new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[2])};
    }

    /** Pushes from the logic node for {@code millis}; {accepted, failed}. */
    long[] push(int sessions, int inFlight, long millis, int payloadBytes) {
        String[] fields = ask("push " + sessions + " " + inFlight + " " + millis + " " + payloadBytes, "pushed ");
        return new long[] {Long.parseLong(fields[1]), Long.parseLong(fields[2])};
    }

    /** Gateway A crashes ({@code Gateway.crash()}) and its node closes; returns once both happened. */
    void crashA() {
        ask("crash", "crashed");
    }

    private synchronized String[] ask(String command, String prefix) {
        commands.println(command);
        try {
            String reply = next(replies, prefix);
            if (reply == null) {
                throw new IllegalStateException("the gateway server JVM ended before answering " + command);
            }
            return reply.split(" ");
        } catch (IOException e) {
            throw new UncheckedIOException("the gateway server JVM is gone", e);
        }
    }

    /** The next line starting with {@code prefix}; others (the JVM's own notices) go to our stderr. */
    private static String next(BufferedReader replies, String prefix) throws IOException {
        String line;
        while ((line = replies.readLine()) != null && !line.startsWith(prefix)) {
            System.err.println("[gateway server] " + line);
        }
        return line;
    }

    @Override
    public synchronized void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        commands.println("exit");
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
