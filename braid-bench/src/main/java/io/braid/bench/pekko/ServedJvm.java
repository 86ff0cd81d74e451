package io.braid.bench.pekko;

import io.braid.bench.core.ThisJvm;
import io.braid.bench.core.Usage;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The server side of {@code ServerMain}'s stdin/stdout protocol for this section's own server JVMs
 * ({@link PekkoNodeMain}, {@link BraidCounterMain}): {@code ready <port>} once serving, {@code usage}
 * answered with {@code usage <cpuNanos> <allocatedBytes>}, {@code exit} or the end of stdin stops.
 */
final class ServedJvm {
    private ServedJvm() {
    }

    /** Stdout for the protocol only; everything else printed goes to stderr from here on. */
    static PrintStream takeStdout() {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        return out;
    }

    /** Announces {@code port}, answers usage queries until told to exit, then closes {@code server}. */
    static void serve(PrintStream out, int port, AutoCloseable server) throws Exception {
        try (server) {
            out.println("ready " + port);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.equals("exit")) {
                if (line.equals("usage")) {
                    Usage usage = ThisJvm.METER.read();
                    out.printf(Locale.ROOT, "usage %d %d%n", usage.cpuNanos(), usage.allocatedBytes());
                } else {
                    out.println("error unknown command " + line);
                }
            }
        }
    }
}
