package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedisBinariesTest {

    @Test
    void missingServerFailsWithAnInstallHint(@TempDir Path empty) {
        assertThatThrownBy(() -> RedisServer.builder().searchPath(empty.toString()).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("redis-server not found on PATH; install it")
                .hasMessageContaining("apt-get install redis-server")
                .hasMessageContaining("brew install redis")
                .hasMessageContaining(empty.toString());
    }

    @Test
    void emptyPathIsReportedAsSuch() {
        assertThatThrownBy(() -> RedisBinaries.locate("redis-server", ""))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("redis-server not found on PATH")
                .hasMessageContaining("(empty PATH)");
    }

    @Test
    void findsTheFirstExecutableAlongThePath(@TempDir Path root) throws IOException {
        Path notExecutable = Files.createDirectory(root.resolve("a"));
        Path executable = Files.createDirectory(root.resolve("b"));
        Path later = Files.createDirectory(root.resolve("c"));
        Files.createFile(notExecutable.resolve("redis-server"));
        Files.createFile(executable.resolve("redis-server"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.createFile(later.resolve("redis-server"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        String path = String.join(File.pathSeparator, "", root.resolve("missing").toString(),
                notExecutable.toString(), executable.toString(), later.toString());

        assertThat(RedisBinaries.locate("redis-server", path)).isEqualTo(executable.resolve("redis-server"));
    }

    @Test
    void theRealPathHasRedisServer() {
        assertThat(RedisBinaries.locate("redis-server", RedisBinaries.systemPath())).isExecutable();
    }
}
