package io.braid.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The safety net: every redis-server process this JVM starts, and every directory it runs in, is
 * listed here until its owner cleans it up. A JVM shutdown hook kills whatever is still listed
 * and deletes the directories, so a test run that crashes or forgets to close leaves nothing
 * behind. (A JVM killed with SIGKILL runs no hooks; nothing in Java can help there.)
 *
 * <p>This is the kit's only static mutable state, on purpose: the shutdown hook is per JVM.
 */
final class JvmExitCleanup {
    private static final Set<Process> PROCESSES = ConcurrentHashMap.newKeySet();
    private static final Set<Path> DIRECTORIES = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(JvmExitCleanup::cleanUp, "braid-testkit-exit-cleanup"));
    }

    private JvmExitCleanup() {
    }

    static void register(Process process) {
        PROCESSES.add(process);
    }

    /** The owner saw {@code process} exit. */
    static void forget(Process process) {
        PROCESSES.remove(process);
    }

    static void register(Path directory) {
        DIRECTORIES.add(directory);
    }

    /** The owner deleted {@code directory}. */
    static void forget(Path directory) {
        DIRECTORIES.remove(directory);
    }

    private static void cleanUp() {
        for (Process process : PROCESSES) {
            process.destroyForcibly();
        }
        for (Process process : PROCESSES) {
            try {
                process.waitFor(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        for (Path directory : DIRECTORIES) {
            deleteRecursively(directory);
        }
    }

    /** Deletes {@code directory} and everything in it; best effort, returns whether it is gone. */
    static boolean deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return true;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // keep going: delete as much as we can
                }
            });
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return !Files.exists(directory);
    }
}
