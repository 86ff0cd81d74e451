package io.braid.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Finds Redis executables on a search path the way a shell would, so a missing one fails clearly. */
final class RedisBinaries {
    /** How to get the binaries; part of every "not found" message. */
    static final String INSTALL_HINT =
            "install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)";

    private RedisBinaries() {
    }

    /** The process' own {@code PATH}; empty when it has none. */
    static String systemPath() {
        String path = System.getenv("PATH");
        return path == null ? "" : path;
    }

    /**
     * The first executable file called {@code name} in the directories of {@code searchPath}
     * (separated by {@link File#pathSeparator}; empty entries are skipped).
     *
     * @throws IllegalStateException naming the program and how to install it when none is found
     */
    static Path locate(String name, String searchPath) {
        for (String entry : searchPath.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            try {
                Path candidate = Path.of(entry, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate.toAbsolutePath();
                }
            } catch (InvalidPathException e) {
                // a malformed PATH entry cannot hold the program; look at the next one
            }
        }
        throw new IllegalStateException(name + " not found on PATH; " + INSTALL_HINT
                + ". Searched: " + (searchPath.isBlank() ? "(empty PATH)" : searchPath));
    }
}
