package io.braid.monitor;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Prometheus' own tools: {@code promtool check metrics} on a scrape, and any other promtool
 * command ({@link #run}: {@code check rules}, {@code test rules}, {@code check config}), from Debian's
 * {@code prometheus} package (.ci/run installs it). A missing promtool fails the test: the check
 * is part of the contract, not optional.
 */
public final class Promtool {
    private Promtool() {
    }

    /** promtool's verdict: exit code and everything it printed. */
    public record Verdict(int exitCode, String output) {
    }

    /**
     * Runs {@code promtool <arguments>} in {@code directory} (paths in the arguments and in the
     * files they name resolve from there), with nothing on its input.
     */
    public static Verdict run(Path directory, String... arguments) {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed (apt-get install prometheus; .ci/run does this): "
                    + e.getMessage(), e);
        }
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("promtool " + String.join(" ", arguments) + " did not finish in 60 s");
            }
            return new Verdict(process.exitValue(), output);
        } catch (IOException e) {
            throw new AssertionError("talking to promtool failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static Verdict checkMetrics(String exposition) {
        ProcessBuilder builder = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed (apt-get install prometheus; .ci/run does this): "
                    + e.getMessage(), e);
        }
        try {
            process.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("promtool did not finish in 30 s");
            }
            return new Verdict(process.exitValue(), output);
        } catch (IOException e) {
            throw new AssertionError("talking to promtool failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
