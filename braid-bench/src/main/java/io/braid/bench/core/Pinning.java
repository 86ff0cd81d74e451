package io.braid.bench.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the load generator and the servers it measures off each other's core: the bench JVM runs
 * on {@link #LOAD_CORE} ({@code ./bench} starts it under {@code taskset -c 1}), servers on
 * {@link #SERVER_CORE}. Server JVMs are started on their core ({@link #onServerCore}); processes
 * started by someone else, such as a {@code redis-server} from braid-testkit, are moved there with
 * every thread they have ({@link #toServerCore}).
 *
 * <p>Pinning needs Linux' {@code taskset} and at least two CPUs; without them every method leaves
 * things as they are and {@link #describe()} says so, so the report never claims a pinning that
 * did not happen. Child processes inherit the bench JVM's core unless moved.
 */
public final class Pinning {
    public static final int SERVER_CORE = 0;
    public static final int LOAD_CORE = 1;

    private static final Path TASKSET = findTaskset();
    private static final int CPUS = onlineCpus();

    private Pinning() {
    }

    /** Whether servers and load can be kept on different cores here. */
    public static boolean available() {
        return TASKSET != null && CPUS >= 2;
    }

    /** {@code command} prefixed to start on the server core, or unchanged when pinning is unavailable. */
    public static List<String> onServerCore(List<String> command) {
        if (!available()) {
            return command;
        }
        List<String> pinned = new ArrayList<>(List.of(TASKSET.toString(), "-c", Integer.toString(SERVER_CORE)));
        pinned.addAll(command);
        return pinned;
    }

    /**
     * Moves a running process, all its threads, onto the server core.
     *
     * @return false when pinning is unavailable
     * @throws IllegalStateException if taskset failed (the process is gone, or not ours)
     */
    public static boolean toServerCore(long pid) {
        if (!available()) {
            return false;
        }
        try {
            Process taskset = new ProcessBuilder(TASKSET.toString(), "-a", "-cp", Integer.toString(SERVER_CORE),
                    Long.toString(pid)).redirectErrorStream(true).start();
            String output = new String(taskset.getInputStream().readAllBytes());
            if (!taskset.waitFor(10, TimeUnit.SECONDS) || taskset.exitValue() != 0) {
                throw new IllegalStateException("taskset could not move process " + pid + " to core " + SERVER_CORE
                        + ": " + output.strip());
            }
            return true;
        } catch (IOException e) {
            throw new IllegalStateException("taskset could not be run for process " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pinning process " + pid, e);
        }
    }

    /** The CPUs this JVM may run on, as Linux lists them ({@code 1}, {@code 0-1}), or {@code ?}. */
    public static String thisProcessCpus() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return "?";
    }

    /** One sentence for the report's preamble. */
    public static String describe() {
        if (!available()) {
            return "not pinned (" + (TASKSET == null ? "no taskset" : "one CPU") + "): load and servers share "
                    + "the CPUs, load JVM on CPUs " + thisProcessCpus();
        }
        return "load JVM on CPU " + thisProcessCpus() + ", servers (server JVMs, redis-server) on CPU " + SERVER_CORE;
    }

    /** Online CPUs of the machine, whatever this process is pinned to. */
    public static int onlineCpus() {
        try {
            String online = Files.readString(Path.of("/sys/devices/system/cpu/online")).strip();
            int count = 0;
            for (String range : online.split(",")) {
                String[] ends = range.split("-");
                count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
            }
            return count;
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    private static Path findTaskset() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, "taskset");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
