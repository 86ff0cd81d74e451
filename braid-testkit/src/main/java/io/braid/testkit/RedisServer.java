package io.braid.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One real {@code redis-server} process on a free loopback port, for tests that need a Redis
 * they control: stop it, kill it with SIGKILL, restart it on the same port with or without its
 * data, pause it with SIGSTOP.
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.builder().appendOnly(true).start()) {
 *     String uri = redis.uri();          // redis://127.0.0.1:PORT, for the code under test
 *     redis.kill();                      // SIGKILL, like a crashed host
 *     redis.restart();                   // same port, same directory: the AOF brings the data back
 * }
 * }</pre>
 *
 * <p>Each server runs in its own temporary directory ({@code --dir}), bound to 127.0.0.1 only,
 * not daemonized, logging to {@code redis.log} in that directory. Without append-only mode it
 * persists nothing ({@code --save ""}), so a restart brings it back empty.
 *
 * <p>Lifecycle methods are synchronized; {@link #port()}, {@link #host()}, {@link #uri()} and
 * {@link #pid()} may be read from any thread. The creator owns the server and closes it; a JVM
 * shutdown hook kills any server still running when the JVM exits.
 */
public final class RedisServer implements AutoCloseable {
    /** How long a start or restart waits for the server to answer PING. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    /** How long a restart keeps trying while its port is still bound by someone. */
    static final Duration RESTART_PORT_TIMEOUT = Duration.ofSeconds(5);
    /** How long stop and kill wait for the process to end (above Redis' shutdown-timeout of 10 s). */
    static final Duration EXIT_TIMEOUT = Duration.ofSeconds(15);

    private static final System.Logger LOG = System.getLogger(RedisServer.class.getName());
    private static final String HOST = LoopbackPorts.HOST;
    private static final String LOG_FILE = "redis.log";
    private static final String CONSOLE_FILE = "console.log";
    private static final String NODES_FILE = "nodes.conf";
    /**
     * A Sentinel's configuration file, which Sentinel rewrites with what it learns, so a restart
     * keeps it; {@link #restartEmpty()} deletes it and starts from the first one again.
     */
    private static final String SENTINEL_FILE = "sentinel.conf";
    /** Where a TLS server keeps its certificates; kept by {@link #restartEmpty()}. */
    private static final String TLS_DIR = "tls";
    private static final int FIRST_START_ATTEMPTS = 5;
    private static final int LOG_TAIL_LINES = 25;
    private static final String PORT_TAKEN_MARK = "Address already in use";
    private static final Duration SIGNAL_TIMEOUT = Duration.ofSeconds(5);
    /** Short, so that a silent listener on our port does not hide that our process has exited. */
    private static final Duration READY_CHECK_TIMEOUT = Duration.ofSeconds(1);
    private static final Path PROC = Path.of("/proc");
    private static final Pattern URI_SAFE_PASSWORD = Pattern.compile("[A-Za-z0-9._~-]{1,128}");
    /** Settings the kit owns; extraArgs may not change them. */
    private static final Set<String> MANAGED_OPTIONS = Set.of("port", "bind", "dir", "daemonize", "logfile",
            "requirepass", "appendonly", "cluster-enabled", "cluster-port", "cluster-config-file", "tls-port",
            "tls-cert-file", "tls-key-file", "tls-ca-cert-file");

    private final Path executable;
    private final Path dir;
    private final boolean appendOnly;
    private final String password;
    private final List<String> extraArgs;
    private final Duration clusterNodeTimeout;
    private final IntSupplier freePorts;
    private final TlsFiles tls;
    /** The lines of a Sentinel's first configuration file, or null for a data node. */
    private final List<String> sentinelConfig;

    private volatile int port;
    private volatile int clusterPort;
    private volatile long pid = -1;
    private Process process;
    private boolean paused;
    private boolean closed;

    private RedisServer(Path executable, Path dir, Builder builder, TlsFiles tls) {
        this.executable = executable;
        this.tls = tls;
        this.dir = dir;
        this.appendOnly = builder.appendOnly;
        this.password = builder.password;
        this.extraArgs = builder.extraArgs;
        this.clusterNodeTimeout = builder.clusterNodeTimeout;
        this.freePorts = builder.freePorts;
        this.sentinelConfig = builder.sentinelConfig;
    }

    /**
     * Starts a server without persistence and returns once it answers PING.
     *
     * @throws IllegalStateException if {@code redis-server} is not on the PATH (the message says
     *         how to install it) or the server did not come up within 10 seconds (the message
     *         holds the end of its log)
     */
    public static RedisServer start() {
        return builder().start();
    }

    /** A builder for a server with persistence, a password or extra settings. */
    /**
     * Closes {@code servers} in reverse start order (a deployment's way down). Failures are added
     * to {@code failure} when given, else the first is thrown once all were tried.
     */
    static void closeAll(java.util.List<RedisServer> servers, RuntimeException failure) {
        RuntimeException first = failure;
        for (int i = servers.size() - 1; i >= 0; i--) {
            try {
                java.util.Objects.requireNonNull(servers.get(i)).close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (failure == null && first != null) {
            throw first;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The port on 127.0.0.1; fixed for the server's life, restarts included. */
    public int port() {
        return port;
    }

    /** Always {@code "127.0.0.1"}: the server binds the IPv4 loopback only. */
    public String host() {
        return HOST;
    }

    /**
     * {@code redis://127.0.0.1:PORT}, or {@code redis://:PASSWORD@127.0.0.1:PORT} when the server
     * has a password (passwords are restricted to characters that need no escaping in a URI);
     * {@code rediss://...} when the server speaks TLS only ({@link Builder#tls()}).
     */
    public String uri() {
        String scheme = tls != null ? "rediss://" : "redis://";
        return password == null
                ? scheme + HOST + ":" + port
                : scheme + ":" + password + "@" + HOST + ":" + port;
    }

    /** Whether the server speaks TLS only ({@link Builder#tls()}). */
    public boolean isTls() {
        return tls != null;
    }

    /**
     * The PEM certificate of the authority that signed this TLS server's certificate (made for it
     * alone): what a client must trust. The server's certificate names IP 127.0.0.1 and
     * {@code localhost}, so clients that check the host name accept it.
     *
     * @throws IllegalStateException if the server does not speak TLS
     */
    public Path caCertificate() {
        if (tls == null) {
            throw new IllegalStateException("Redis on port " + port + " does not speak TLS; start it with builder().tls()");
        }
        return tls.caCertificate();
    }

    /** The process id of the running server, or of the last one if it is not running. */
    public long pid() {
        return pid;
    }

    /** Whether the process is alive. A paused server is running. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Shuts the server down gracefully through the protocol and waits until the process has
     * exited: {@code SHUTDOWN} with append-only mode (Redis fsyncs the AOF first, so a restart
     * gets every acknowledged write back), {@code SHUTDOWN NOSAVE} without. A paused server is
     * resumed first. Does nothing when the server is not running.
     *
     * @throws IllegalStateException if Redis refuses to shut down or the process does not exit
     *         within 15 seconds (it is then killed), or after {@link #close()}
     */
    public synchronized void stop() {
        ensureOpen();
        Process current = process;
        if (current == null || !current.isAlive()) {
            return;
        }
        resume();
        try (RedisProbe probe = probe()) {
            if (appendOnly) {
                probe.command("SHUTDOWN");
            } else {
                probe.command("SHUTDOWN", "NOSAVE");
            }
        } catch (UncheckedIOException expected) {
            // Redis closes the connection instead of answering a successful SHUTDOWN.
        } catch (RedisProbe.ErrorReply e) {
            throw new IllegalStateException("Redis on port " + port + " refused SHUTDOWN: " + e.getMessage()
                    + logTail(0, 0), e);
        }
        if (!awaitExit(current)) {
            current.destroyForcibly();
            awaitExit(current);
            throw new IllegalStateException("Redis on port " + port + " did not exit within "
                    + EXIT_TIMEOUT.toSeconds() + " s after SHUTDOWN; it was killed." + logTail(0, 0));
        }
    }

    /**
     * Kills the process with SIGKILL, as a crashed host would lose it, and waits until it has
     * exited. Writes not yet fsynced are lost. Does nothing when the server is not running.
     *
     * @throws IllegalStateException if the process outlives the signal for 15 seconds, or after
     *         {@link #close()}
     */
    public synchronized void kill() {
        ensureOpen();
        Process current = process;
        if (current == null || !current.isAlive()) {
            return;
        }
        current.destroyForcibly(); // SIGKILL on Unix; it also ends a stopped (paused) process
        paused = false;
        if (!awaitExit(current)) {
            throw new IllegalStateException("redis-server pid " + current.pid() + " survived SIGKILL for "
                    + EXIT_TIMEOUT.toSeconds() + " s");
        }
    }

    /**
     * Starts the server again on the same port with the same directory and settings, and returns
     * once it answers PING with its data loaded: an append-only server gets its data back, one
     * without persistence comes back empty. A running server is first stopped with
     * {@link #stop()}. While the port is still bound (another process took it, or the kernel has
     * not let go yet), the restart keeps trying for 5 seconds.
     *
     * @throws IllegalStateException if the server does not come back (the message holds the end of
     *         its log), or after {@link #close()}
     */
    public synchronized void restart() {
        ensureOpen();
        stop();
        launchOnSamePorts();
    }

    /**
     * As {@link #restart()}, but everything in the server's directory except its logs is deleted
     * first, so it comes back empty even with append-only mode. A Cluster node loses its
     * {@code nodes.conf} too: it comes back as a new node that knows no cluster.
     *
     * @throws IllegalStateException as {@link #restart()}
     */
    public synchronized void restartEmpty() {
        ensureOpen();
        stop();
        wipeData();
        launchOnSamePorts();
    }

    /**
     * Stops the process with SIGSTOP ({@code kill -STOP pid}): it keeps its port and connections
     * but answers nothing, like a server stuck in a long pause. Does nothing when already paused.
     *
     * @throws IllegalStateException if the server is not running, the signal cannot be sent, or
     *         after {@link #close()}
     */
    public synchronized void pause() {
        ensureOpen();
        if (paused) {
            return;
        }
        if (!isRunning()) {
            throw new IllegalStateException("cannot pause: Redis on port " + port + " is not running");
        }
        signal("STOP");
        paused = true;
        awaitStopped(pid, true);
    }

    /**
     * Continues a paused process with SIGCONT ({@code kill -CONT pid}). Does nothing when the
     * server is not paused.
     *
     * @throws IllegalStateException if the signal cannot be sent, or after {@link #close()}
     */
    public synchronized void resume() {
        ensureOpen();
        if (!paused) {
            return;
        }
        if (!isRunning()) {
            paused = false;
            return;
        }
        signal("CONT");
        paused = false;
        awaitStopped(pid, false);
    }

    /** Deletes every key (FLUSHALL): a clean slate between the tests of a class that share this server. */
    public void flushAll() {
        try (RedisProbe probe = probe()) {
            probe.command("FLUSHALL");
        }
    }

    /**
     * A new {@link RedisProbe} for this server, with its password (and over TLS, trusting
     * {@link #caCertificate()}, when the server speaks TLS). It connects lazily, so it may be
     * created while the server is down; it follows the server across restarts (same port). The
     * caller closes it.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public RedisProbe probe() {
        synchronized (this) {
            ensureOpen();
        }
        return newProbe();
    }

    private RedisProbe newProbe() {
        return new RedisProbe(HOST, port, password, tls != null ? tls.socketFactory() : null);
    }

    /**
     * Kills the process if it runs (SIGKILL: closing is cleanup, not a graceful stop) and deletes
     * the server's directory. Idempotent; every other method then throws
     * {@link IllegalStateException}.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Process current = process;
        if (current != null) {
            current.destroyForcibly();
            if (!awaitExit(current)) {
                LOG.log(System.Logger.Level.WARNING, "redis-server pid {0} survived SIGKILL", current.pid());
            }
        }
        paused = false;
        if (JvmExitCleanup.deleteRecursively(dir)) {
            JvmExitCleanup.forget(dir);
        }
    }

    @Override
    public String toString() {
        return "RedisServer[" + HOST + ":" + port + ", pid " + pid + "]";
    }

    // ---- package-private: for RedisCluster and tests -----------------------------------------

    /** The server's own directory: data, {@code redis.log}, {@code console.log}. */
    Path directory() {
        return dir;
    }

    /** Whether this process runs as a Sentinel ({@code --sentinel}) rather than a data node. */
    boolean isSentinel() {
        return sentinelConfig != null;
    }

    /** The Cluster bus port, or 0 for a server that is not a Cluster node. */
    int clusterPort() {
        return clusterPort;
    }

    // ---- starting -----------------------------------------------------------------------------

    private static RedisServer start(Builder builder) {
        String searchPath = builder.searchPath != null ? builder.searchPath : RedisBinaries.systemPath();
        Path executable = RedisBinaries.locate("redis-server", searchPath);
        Path dir;
        try {
            dir = Files.createTempDirectory("braid-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for redis-server", e);
        }
        JvmExitCleanup.register(dir);
        RedisServer server = null;
        try {
            TlsFiles tls = builder.tls ? TlsFiles.create(dir.resolve(TLS_DIR), searchPath) : null;
            server = new RedisServer(executable, dir, builder, tls);
            server.launchOnFreePorts();
            return server;
        } catch (RuntimeException e) {
            if (server != null) {
                server.close();
            } else {
                JvmExitCleanup.deleteRecursively(dir);
                JvmExitCleanup.forget(dir);
            }
            throw e;
        }
    }

    private enum Launch { READY, PORT_TAKEN }

    private synchronized void launchOnFreePorts() {
        for (int attempt = 1; attempt <= FIRST_START_ATTEMPTS; attempt++) {
            port = freePorts.getAsInt();
            if (clusterNodeTimeout != null) {
                int bus;
                do {
                    bus = freePorts.getAsInt();
                } while (bus == port);
                clusterPort = bus;
            }
            if (launch() == Launch.READY) {
                return;
            }
            LOG.log(System.Logger.Level.DEBUG, "port {0} was taken before redis-server bound it; trying another", port);
        }
        throw new IllegalStateException("redis-server could not bind a free port in " + FIRST_START_ATTEMPTS
                + " attempts; other processes keep taking them." + logTail(0, 0));
    }

    private void launchOnSamePorts() {
        long deadline = System.nanoTime() + RESTART_PORT_TIMEOUT.toNanos();
        while (launch() == Launch.PORT_TAKEN) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("cannot restart Redis: port " + port
                        + (clusterPort != 0 ? " or " + clusterPort : "") + " on " + HOST + " stayed bound for "
                        + RESTART_PORT_TIMEOUT.toSeconds() + " s." + logTail(0, 0));
            }
            Await.poll(Duration.ofNanos(left),
                    () -> LoopbackPorts.isFree(port) && (clusterPort == 0 || LoopbackPorts.isFree(clusterPort)));
        }
    }

    /** Launches the process on the current ports and waits until it is ready or has exited. */
    private Launch launch() {
        writeSentinelConfig();
        long logMark = size(LOG_FILE);
        long consoleMark = size(CONSOLE_FILE);
        Process started;
        try {
            started = new ProcessBuilder(commandLine())
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(Redirect.appendTo(dir.resolve(CONSOLE_FILE).toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + executable, e);
        }
        JvmExitCleanup.register(started);
        if (process != null && !process.isAlive()) {
            JvmExitCleanup.forget(process); // it may have died on its own, unseen by stop() or kill()
        }
        process = started;
        pid = started.pid();
        paused = false;
        closeQuietly(started);

        boolean ready;
        try (RedisProbe probe = newProbe()) {
            ready = Await.poll(START_TIMEOUT, () -> !started.isAlive() || isReady(probe, started.pid(), isSentinel()))
                    && started.isAlive();
        }
        if (ready) {
            LOG.log(System.Logger.Level.DEBUG, "redis-server pid {0} ready on {1}:{2} in {3}",
                    started.pid(), HOST, port, dir);
            return Launch.READY;
        }
        if (started.isAlive()) {
            started.destroyForcibly();
            awaitExit(started);
            throw new IllegalStateException("redis-server pid " + started.pid() + " on " + HOST + ":" + port
                    + " did not answer PING within " + START_TIMEOUT.toSeconds() + " s; it was killed."
                    + logTail(logMark, consoleMark));
        }
        awaitExit(started);
        String output = read(LOG_FILE, logMark) + read(CONSOLE_FILE, consoleMark);
        if (output.contains(PORT_TAKEN_MARK)) {
            return Launch.PORT_TAKEN;
        }
        throw new IllegalStateException("redis-server exited with code " + started.exitValue()
                + " before answering PING on " + HOST + ":" + port + "." + logTail(logMark, consoleMark));
    }

    private List<String> commandLine() {
        List<String> command = new ArrayList<>(List.of(executable.toString()));
        if (sentinelConfig != null) {
            // The configuration file comes first; the settings after it override its own.
            command.addAll(List.of(dir.resolve(SENTINEL_FILE).toString(), "--sentinel"));
        }
        command.addAll(List.of(
                "--port", tls != null ? "0" : Integer.toString(port),
                "--bind", HOST,
                "--dir", dir.toString(),
                "--daemonize", "no",
                "--logfile", dir.resolve(LOG_FILE).toString()));
        if (sentinelConfig != null) {
            // a Sentinel keeps no data set: no persistence settings
        } else if (appendOnly) {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
        } else {
            command.addAll(List.of("--appendonly", "no", "--save", ""));
        }
        if (password != null) {
            command.addAll(List.of("--requirepass", password));
        }
        if (tls != null) {
            command.addAll(List.of(
                    "--tls-port", Integer.toString(port),
                    "--tls-cert-file", tls.serverCertificate().toString(),
                    "--tls-key-file", tls.serverKey().toString(),
                    "--tls-ca-cert-file", tls.caCertificate().toString(),
                    "--tls-auth-clients", "no"));
        }
        if (clusterNodeTimeout != null) {
            command.addAll(List.of(
                    "--cluster-enabled", "yes",
                    "--cluster-port", Integer.toString(clusterPort),
                    "--cluster-config-file", NODES_FILE,
                    "--cluster-node-timeout", Long.toString(clusterNodeTimeout.toMillis()),
                    // replicas sync at once instead of after the default 5 s diskless-sync delay
                    "--repl-diskless-sync-delay", "0"));
        }
        command.addAll(extraArgs);
        return command;
    }

    /**
     * Answers PING, is the process we started (not another server on the port) and has loaded its
     * data (a Sentinel has none to load).
     */
    private static boolean isReady(RedisProbe probe, long expectedPid, boolean sentinel) {
        if (!"PONG".equals(probe.command(READY_CHECK_TIMEOUT, "PING"))) {
            return false;
        }
        String server = (String) probe.command(READY_CHECK_TIMEOUT, "INFO", "server");
        if (!Long.toString(expectedPid).equals(InfoFields.get(server, "process_id"))) {
            return false;
        }
        if (sentinel) {
            return true;
        }
        String persistence = (String) probe.command(READY_CHECK_TIMEOUT, "INFO", "persistence");
        return "0".equals(InfoFields.get(persistence, "loading"));
    }

    private static void closeQuietly(Process started) {
        try {
            started.getOutputStream().close(); // redis-server never reads its stdin
        } catch (IOException e) {
            // nothing to release then
        }
    }

    // ---- stopping and signals -----------------------------------------------------------------

    /** Waits for {@code target} to exit; once it has, it is no longer the exit hook's business. */
    private static boolean awaitExit(Process target) {
        try {
            if (target.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                JvmExitCleanup.forget(target);
                return true;
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server pid " + target.pid()
                    + " to exit", e);
        }
    }

    private void signal(String name) {
        List<String> command = List.of("kill", "-" + name, Long.toString(pid));
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
            closeQuietly(kill);
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(SIGNAL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                kill.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            if (kill.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed with code "
                        + kill.exitValue() + ": " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /**
     * Waits until the kernel reports process {@code target} as stopped (or as no longer stopped),
     * so that a test's next step meets the state it asked for. Where there is no {@code /proc}
     * there is nothing to watch, and the signal is trusted.
     */
    private static void awaitStopped(long target, boolean stopped) {
        if (!Files.isDirectory(PROC.resolve("self"))) {
            return;
        }
        Await.until(SIGNAL_TIMEOUT, "redis-server pid " + target + (stopped ? " to stop" : " to continue"),
                () -> isStopped(target) == stopped
                        || !ProcessHandle.of(target).map(ProcessHandle::isAlive).orElse(false));
    }

    /** Whether {@code /proc/PID/stat} shows state {@code T} (stopped by a signal). */
    private static boolean isStopped(long target) {
        String text;
        try (BufferedReader reader = Files.newBufferedReader(PROC.resolve(Long.toString(target)).resolve("stat"),
                StandardCharsets.US_ASCII)) {
            text = reader.readLine(); // procfs reports size 0: read it as a stream
        } catch (IOException e) {
            return false;
        }
        if (text == null) {
            return false;
        }
        int afterName = text.lastIndexOf(')'); // "PID (COMM) STATE ...", COMM may hold spaces
        return afterName > 0 && text.length() > afterName + 2 && text.charAt(afterName + 2) == 'T';
    }

    // ---- the directory and its logs -----------------------------------------------------------

    /**
     * Writes a Sentinel's configuration file unless it exists: Sentinel rewrites it with what it
     * learns (the current master, the other Sentinels), and a restart keeps that.
     */
    private void writeSentinelConfig() {
        Path file = dir.resolve(SENTINEL_FILE);
        if (sentinelConfig == null || Files.exists(file)) {
            return;
        }
        try {
            Files.write(file, sentinelConfig, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void wipeData() {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!name.equals(LOG_FILE) && !name.equals(CONSOLE_FILE) && !name.equals(TLS_DIR)
                        && !JvmExitCleanup.deleteRecursively(entry)) {
                    throw new IllegalStateException("cannot delete " + entry);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot empty " + dir, e);
        }
    }

    private long size(String file) {
        try {
            return Files.size(dir.resolve(file));
        } catch (IOException e) {
            return 0;
        }
    }

    /** What {@code file} gained after byte {@code from}; empty if it cannot be read. */
    private String read(String file, long from) {
        try {
            byte[] bytes = Files.readAllBytes(dir.resolve(file));
            int start = (int) Math.min(from, bytes.length);
            return new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last lines the server wrote to its log and console after the given byte offsets. */
    private String logTail(long logFrom, long consoleFrom) {
        StringBuilder tail = new StringBuilder();
        appendTail(tail, LOG_FILE, read(LOG_FILE, logFrom));
        appendTail(tail, CONSOLE_FILE, read(CONSOLE_FILE, consoleFrom));
        return tail.isEmpty() ? " (" + dir + " holds no log output)" : tail.toString();
    }

    private void appendTail(StringBuilder tail, String file, String text) {
        if (text.isBlank()) {
            return;
        }
        List<String> lines = Arrays.asList(text.split("\r?\n"));
        List<String> last = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
        tail.append(System.lineSeparator()).append("--- last lines of ").append(dir.resolve(file)).append(" ---");
        for (String line : last) {
            tail.append(System.lineSeparator()).append(line);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("RedisServer on port " + port + " is closed");
        }
    }

    /**
     * Settings for a {@link RedisServer}. Each setter checks its argument at once. A builder may
     * start several servers; each gets its own port and directory.
     */
    public static final class Builder {
        private boolean appendOnly;
        private String password;
        private List<String> extraArgs = List.of();
        private String searchPath;
        private Duration clusterNodeTimeout;
        private IntSupplier freePorts = LoopbackPorts::pick;
        private boolean tls;
        private List<String> sentinelConfig;

        private Builder() {
        }

        /**
         * Makes the server speak TLS only: a new certificate authority of its own and a server
         * certificate it signed for 127.0.0.1 and {@code localhost} (made with {@code openssl} from
         * the PATH), {@code tls-port} on the server's port and {@code port 0}, so a plain
         * connection gets nowhere. Clients need not present a certificate
         * ({@code tls-auth-clients no}). {@link RedisServer#uri()} then starts with
         * {@code rediss://}; {@link RedisServer#caCertificate()} is what clients must trust; probes
         * speak TLS by themselves. Not for Cluster nodes.
         */
        public Builder tls() {
            this.tls = true;
            return this;
        }

        /**
         * With {@code true}, the server persists every write to its append-only file and fsyncs
         * it before answering ({@code appendonly yes}, {@code appendfsync always}), so
         * {@link RedisServer#kill()} then {@link RedisServer#restart()} loses nothing that was
         * acknowledged. Default {@code false}: no persistence at all.
         */
        public Builder appendOnly(boolean appendOnly) {
            this.appendOnly = appendOnly;
            return this;
        }

        /**
         * Requires this password ({@code requirepass}); {@link RedisServer#uri()} and
         * {@link RedisServer#probe()} carry it.
         *
         * @throws IllegalArgumentException unless it is 1 to 128 characters from
         *         {@code A-Z a-z 0-9 . _ ~ -} (characters a URI carries unescaped)
         */
        public Builder password(String password) {
            Objects.requireNonNull(password, "password");
            if (!URI_SAFE_PASSWORD.matcher(password).matches()) {
                throw new IllegalArgumentException("password must be 1 to 128 characters from "
                        + "A-Z a-z 0-9 . _ ~ - (so that uri() needs no escaping)");
            }
            this.password = password;
            return this;
        }

        /**
         * More command-line settings, appended after the kit's own, e.g.
         * {@code extraArgs("--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lru")}. Replaces
         * earlier extra arguments.
         *
         * @throws IllegalArgumentException if one is null or sets what the kit manages: port,
         *         bind, dir, daemonize, logfile, requirepass (use {@link #password}), appendonly
         *         (use {@link #appendOnly}) or the cluster settings
         */
        public Builder extraArgs(String... args) {
            Objects.requireNonNull(args, "args");
            for (String arg : args) {
                if (arg == null) {
                    throw new IllegalArgumentException("extraArgs must not contain null: " + Arrays.toString(args));
                }
                if (arg.startsWith("--")
                        && MANAGED_OPTIONS.contains(arg.substring(2).toLowerCase(Locale.ROOT))) {
                    throw new IllegalArgumentException("extraArgs must not set " + arg
                            + "; the kit manages " + MANAGED_OPTIONS);
                }
            }
            this.extraArgs = List.of(args);
            return this;
        }

        /** Where to look for {@code redis-server} instead of the PATH; for the kit's own tests. */
        Builder searchPath(String searchPath) {
            this.searchPath = Objects.requireNonNull(searchPath, "searchPath");
            return this;
        }

        /** Where the first start gets its ports from, instead of {@link LoopbackPorts#pick()}; for tests. */
        Builder freePorts(IntSupplier freePorts) {
            this.freePorts = Objects.requireNonNull(freePorts, "freePorts");
            return this;
        }

        /** Makes the server a Cluster node with this node timeout; for {@link RedisCluster}. */
        Builder clusterNode(Duration nodeTimeout) {
            this.clusterNodeTimeout = Objects.requireNonNull(nodeTimeout, "nodeTimeout");
            return this;
        }

        /**
         * Makes the process a Sentinel ({@code redis-server sentinel.conf --sentinel}) whose first
         * configuration file holds these lines; for {@link RedisSentinel}.
         */
        Builder sentinel(List<String> configLines) {
            this.sentinelConfig = List.copyOf(configLines);
            return this;
        }

        /**
         * Starts the server and returns once it answers PING with its data loaded.
         *
         * @throws IllegalStateException if {@code redis-server} is not on the PATH (the message
         *         says how to install it) or the server did not come up within 10 seconds (the
         *         message holds the end of its log)
         */
        public RedisServer start() {
            if (tls && clusterNodeTimeout != null) {
                throw new IllegalStateException("tls() is not supported for Cluster nodes");
            }
            if (sentinelConfig != null && (tls || clusterNodeTimeout != null || appendOnly)) {
                throw new IllegalStateException("a Sentinel takes no tls(), appendOnly() or Cluster settings");
            }
            return RedisServer.start(this);
        }
    }
}
