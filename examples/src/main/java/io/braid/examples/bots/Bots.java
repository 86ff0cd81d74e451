package io.braid.examples.bots;

import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.proto.ActRequest;
import io.braid.examples.proto.ChatLine;
import io.braid.examples.proto.ClientFrame;
import io.braid.examples.proto.LoginRequest;
import io.braid.examples.proto.LogoutRequest;
import io.braid.examples.proto.ServerFrame;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * The load generator: N simulated players that log in through a gateway's WebSocket like the
 * player page does, act again and again (sometimes chatting), and log out when the run ends. Each
 * player is a virtual thread with one socket; the players' logins are spread over the first
 * seconds. Latencies are measured from the player's side. Thread-safe.
 */
public final class Bots implements AutoCloseable {
    public static final Setting GATEWAY = new Setting("--gateway", "BOTS_GATEWAY_URL", "ws://127.0.0.1:8080/ws",
            "the gateways' WebSocket URLs, comma-separated; players are spread over them");
    public static final Setting PLAYERS = new Setting("--players", "BOTS_PLAYERS", "100", "players to simulate");
    public static final Setting SECONDS = new Setting("--seconds", "BOTS_SECONDS", "30",
            "how long the players stay; 0 = until Ctrl-C / SIGTERM");
    public static final Setting THINK_MILLIS = new Setting("--think-millis", "BOTS_THINK_MILLIS", "100",
            "a player's pause between two actions");
    public static final Setting CHAT_PERCENT = new Setting("--chat-percent", "BOTS_CHAT_PERCENT", "2",
            "the share of actions that are a chat line instead of a click");
    public static final Setting NAME_PREFIX = new Setting("--name-prefix", "BOTS_NAME_PREFIX", null,
            "players are named <prefix>-<n>; default bot-<random>");
    public static final Setting REPORT = new Setting("--report", "BOTS_REPORT", null,
            "write each player's logic nodes to this file at the end");
    public static final Setting PROGRESS_SECONDS = new Setting("--progress-seconds", "BOTS_PROGRESS_SECONDS", "2",
            "seconds between two progress lines; 0 = none");
    public static final List<Setting> SETTINGS = List.of(GATEWAY, PLAYERS, SECONDS, THINK_MILLIS, CHAT_PERCENT,
            NAME_PREFIX, REPORT, PROGRESS_SECONDS);

    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration LONGEST_RAMP = Duration.ofSeconds(2);

    /** How a run goes. {@code duration} zero means until {@link #stop()}. */
    public record Options(List<URI> gateways, int players, Duration duration, Duration think, int chatPercent,
                          String namePrefix) {
        public Options {
            gateways = List.copyOf(gateways);
            if (gateways.isEmpty()) {
                throw new IllegalArgumentException("bots need at least one gateway URL");
            }
            if (players < 1) {
                throw new IllegalArgumentException("players must be at least 1, was " + players);
            }
            if (chatPercent < 0 || chatPercent > 100) {
                throw new IllegalArgumentException("chatPercent must be in 0..100, was " + chatPercent);
            }
        }

        public static Options of(URI gateway, int players, Duration duration) {
            return new Options(List.of(gateway), players, duration, Duration.ofMillis(100), 2,
                    "bot-" + UUID.randomUUID().toString().substring(0, 4));
        }

        public Options withThink(Duration newThink) {
            return new Options(gateways, players, duration, newThink, chatPercent, namePrefix);
        }

        public Options withChatPercent(int percent) {
            return new Options(gateways, players, duration, think, percent, namePrefix);
        }
    }

    /** A moment of the run, for progress lines. */
    public record Progress(int online, long calls, long errors, long chatReceived, long rewards) {
    }

    private final Options options;
    private final HttpClient http = HttpClient.newHttpClient();
    private final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(TimeUnit.MINUTES.toMicros(1), 3);
    private final Map<String, PlayerRun> runs = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final LongAdder calls = new LongAdder();
    private final LongAdder chatSent = new LongAdder();
    private final LongAdder chatReceived = new LongAdder();
    private final LongAdder rewards = new LongAdder();
    private final AtomicInteger online = new AtomicInteger();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final long endNanos;

    private Bots(Options options) {
        this.options = options;
        long start = System.nanoTime();
        this.endNanos = options.duration().isZero() ? Long.MAX_VALUE : start + options.duration().toNanos();
    }

    /** Starts the players; returns at once. */
    public static Bots start(Options options) {
        Bots bots = new Bots(options);
        Duration ramp = options.duration().isZero() ? LONGEST_RAMP
                : min(LONGEST_RAMP, options.duration().dividedBy(5));
        for (int i = 0; i < options.players(); i++) {
            String name = options.namePrefix() + "-" + (i + 1);
            URI gateway = options.gateways().get(i % options.gateways().size());
            long startAfter = ramp.toNanos() * i / options.players();
            PlayerRun run = new PlayerRun(name);
            bots.runs.put(name, run);
            bots.threads.add(Thread.ofVirtual().name("bot-" + name).start(() -> bots.play(run, gateway, startAfter)));
        }
        return bots;
    }

    public Progress progress() {
        return new Progress(online.get(), calls.sum(), errors.values().stream().mapToLong(LongAdder::sum).sum(),
                chatReceived.sum(), rewards.sum());
    }

    /** Asks every player to log out now. */
    public void stop() {
        stopping.set(true);
    }

    /** Waits until every player has logged out; false if {@code timeout} passed first. */
    public boolean await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread thread : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
                return false;
            }
        }
        return true;
    }

    /** The report so far; final once {@link #await} returned true. */
    public BotsReport report() {
        Map<String, BotsReport.PlayerRecord> byPlayer = new LinkedHashMap<>();
        runs.forEach((name, run) -> byPlayer.put(name, run.record()));
        Map<String, Long> errorCounts = new LinkedHashMap<>();
        errors.forEach((code, count) -> errorCounts.put(code, count.sum()));
        return new BotsReport(options.players(), byPlayer, calls.sum(), errorCounts,
                latencyMicros.getValueAtPercentile(50) / 1000.0, latencyMicros.getValueAtPercentile(99) / 1000.0,
                latencyMicros.getMaxValue() / 1000.0, chatSent.sum(), chatReceived.sum(), rewards.sum());
    }

    /** Stops the players, waits up to 10 s for them to log out, and closes the HTTP client. */
    @Override
    public void close() {
        stop();
        try {
            await(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.close();
    }

    private boolean running() {
        return !stopping.get() && System.nanoTime() - endNanos < 0;
    }

    private void play(PlayerRun run, URI gateway, long startAfterNanos) {
        LockSupport.parkNanos(startAfterNanos); // spreads the logins; a simulated player's own pacing
        if (!running()) {
            return;
        }
        BotSocket socket = logIn(run, gateway);
        if (socket == null) {
            return;
        }
        try (socket) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (running() && socket.isOpen()) {
                if (random.nextInt(100) < options.chatPercent()) {
                    ServerFrame said = call(run, socket, ClientFrame.newBuilder()
                            .setSay(ChatLine.newBuilder().setText("hello from " + run.name)).build());
                    if (said != null && said.hasSaid()) {
                        chatSent.increment();
                    }
                } else {
                    ServerFrame act = call(run, socket, ClientFrame.newBuilder()
                            .setAct(ActRequest.newBuilder().setAction("click")).build());
                    if (act != null && act.hasAct()) {
                        run.served(act.getAct().getNode(), act.getAct().getRecovered());
                    }
                }
                long think = options.think().toNanos();
                if (think > 0) {
                    LockSupport.parkNanos(think / 2 + random.nextLong(think)); // the player's pace, with jitter
                }
            }
            if (socket.isOpen()) {
                call(run, socket, ClientFrame.newBuilder().setLogout(LogoutRequest.getDefaultInstance()).build());
            }
        } finally {
            if (run.loggedIn) {
                online.decrementAndGet();
            }
        }
    }

    /**
     * Connects and logs in, again every second while the run lasts (the gateway or the logic nodes
     * may not be up yet); null when the run ended first.
     */
    private BotSocket logIn(PlayerRun run, URI gateway) {
        while (running()) {
            BotSocket socket = null;
            try {
                socket = BotSocket.connect(http, gateway, CALL_TIMEOUT, this::pushed);
                ServerFrame login = call(run, socket, ClientFrame.newBuilder()
                        .setLogin(LoginRequest.newBuilder().setPlayer(run.name)).build());
                if (login != null && login.hasLogin()) {
                    run.served(login.getLogin().getNode(), false);
                    run.loggedIn = true;
                    online.incrementAndGet();
                    return socket;
                }
            } catch (RuntimeException e) {
                failed(run, "CONNECT");
            }
            if (socket != null) {
                socket.close();
            }
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1)); // a player trying again a little later
        }
        return null;
    }

    /** One call; null (and the failure counted) when it failed. */
    private ServerFrame call(PlayerRun run, BotSocket socket, ClientFrame frame) {
        long started = System.nanoTime();
        ServerFrame answer;
        try {
            answer = socket.call(frame, CALL_TIMEOUT);
        } catch (RuntimeException e) {
            failed(run, e.getCause() instanceof java.util.concurrent.TimeoutException ? "TIMEOUT" : "SOCKET");
            return null;
        }
        if (answer.hasError()) {
            failed(run, answer.getError().getCode());
            return null;
        }
        latencyMicros.recordValue(Math.min(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started),
                latencyMicros.getHighestTrackableValue()));
        calls.increment();
        run.calls.incrementAndGet();
        return answer;
    }

    private void failed(PlayerRun run, String code) {
        errors.computeIfAbsent(code, c -> new LongAdder()).increment();
        run.errors.incrementAndGet();
    }

    private void pushed(ServerFrame frame) {
        if (frame.hasChat()) {
            chatReceived.increment();
        } else if (frame.hasReward()) {
            rewards.increment();
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** One player's record, written by its own thread, read by the report. */
    private static final class PlayerRun {
        final String name;
        final List<String> nodes = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong errors = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean loggedIn;
        volatile boolean recovered;

        PlayerRun(String name) {
            this.name = name;
        }

        void served(String node, boolean recoveredThere) {
            if (!nodes.contains(node)) {
                nodes.add(node);
            }
            recovered |= recoveredThere;
        }

        BotsReport.PlayerRecord record() {
            return new BotsReport.PlayerRecord(name, nodes, calls.get(), errors.get(), loggedIn, recovered);
        }
    }

    /** One progress line: elapsed time, players online, calls per second since the last line. */
    public static String progressLine(Duration elapsed, int players, Progress previous, Progress now, Duration interval) {
        double seconds = Math.max(0.001, interval.toMillis() / 1000.0);
        return String.format("[%3ds] players online %d/%d · calls/s %.0f · failed %d · chat deliveries %d · rewards %d",
                elapsed.toSeconds(), now.online(), players, (now.calls() - previous.calls()) / seconds,
                now.errors(), now.chatReceived(), now.rewards());
    }

    /** Runs the bots against running gateways; prints progress and the summary; exit code 0 when the check passes. */
    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse("bots", SETTINGS, args, System.getenv());
        List<URI> gateways = Arrays.stream(settings.get(GATEWAY).split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).map(URI::create).toList();
        Options options = new Options(gateways, settings.getInt(PLAYERS, 1, 1_000_000), settings.getSeconds(SECONDS),
                Duration.ofMillis(settings.getInt(THINK_MILLIS, 0, 60_000)), settings.getInt(CHAT_PERCENT, 0, 100),
                settings.has(NAME_PREFIX) ? settings.get(NAME_PREFIX) : "bot-" + UUID.randomUUID().toString().substring(0, 4));
        Duration every = settings.getSeconds(PROGRESS_SECONDS);
        PrintStream out = System.out;
        out.printf("bots: %d players against %s for %s%n", options.players(), gateways,
                options.duration().isZero() ? "until stopped" : options.duration().toSeconds() + " s");
        Bots bots = start(options);
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        Thread hook = new Thread(() -> {
            bots.stop();
            try {
                finished.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bots-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        long started = System.nanoTime();
        Progress previous = bots.progress();
        long lastLine = started;
        while (!bots.await(Duration.ofMillis(every.isZero() ? 1000 : every.toMillis()))) {
            if (!every.isZero()) {
                Progress now = bots.progress();
                long at = System.nanoTime();
                out.println(progressLine(Duration.ofNanos(at - started), options.players(), previous, now,
                        Duration.ofNanos(at - lastLine)));
                out.flush();
                previous = now;
                lastLine = at;
            }
        }
        BotsReport report = bots.report();
        report.summaryLines().forEach(out::println);
        out.flush();
        if (settings.has(REPORT)) {
            report.writeTo(Path.of(settings.get(REPORT)));
        }
        bots.http.close();
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return;
        }
        System.exit(report.everyPlayerOnExactlyOneNode() ? 0 : 1);
    }
}
