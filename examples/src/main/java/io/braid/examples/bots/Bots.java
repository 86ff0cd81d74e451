package io.braid.examples.bots;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.BraidException;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.chat.ChatService;
import io.braid.examples.logic.LogicService;
import io.braid.examples.proto.ActReply;
import io.braid.examples.proto.ActRequest;
import io.braid.examples.proto.ChatAck;
import io.braid.examples.proto.ChatLine;
import io.braid.examples.proto.LoginReply;
import io.braid.examples.proto.LoginRequest;
import io.braid.examples.proto.LogoutReply;
import io.braid.examples.proto.LogoutRequest;
import io.braid.examples.proto.PlayerPush;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.ClientStats;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * The load generator: N simulated players, each a braid-gateway {@link GatewayClient} over
 * WebSocket (as the player page is): log in, call {@code logic.player.login}, act again and again
 * (sometimes chatting), and log out when the run ends. When a gateway drops a player, the client
 * resumes the session on that gateway or another (or logs in afresh when it cannot: counted).
 * Each player is a virtual thread; the clients share one event loop group; logins are spread over
 * the first seconds and players over the gateways (player n starts on gateway n mod count, the
 * others next in its list). Latencies are measured from the player's side; each player checks that
 * every click it was told about stays counted ({@link ClickLedger}) and records the id of every
 * push it receives, so a run can tell pushes lost and pushes received twice. Thread-safe.
 */
public final class Bots implements AutoCloseable {
    public static final Setting GATEWAY = new Setting("--gateway", "BOTS_GATEWAY_URL", "ws://127.0.0.1:8080/ws",
            "the gateways' WebSocket URLs, comma-separated; players are spread over them and resume on any");
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

    public static final String LOGIN_ROUTE = LogicService.SERVICE + "." + LogicService.LOGIN;
    public static final String ACT_ROUTE = LogicService.SERVICE + "." + LogicService.ACT;
    public static final String LOGOUT_ROUTE = LogicService.SERVICE + "." + LogicService.LOGOUT;
    public static final String SAY_ROUTE = ChatService.SERVICE + "." + ChatService.SAY;

    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration LONGEST_RAMP = Duration.ofSeconds(2);
    /** A player whose session cannot come back (no gateway answers) for this long stops. */
    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

    /** How a run goes. {@code duration} zero means until {@link #stop()}. */
    public record Options(List<URI> gateways, int players, Duration duration, Duration think, int chatPercent,
                          String namePrefix) {
        public Options {
            gateways = List.copyOf(gateways);
            if (gateways.isEmpty()) {
                throw new IllegalArgumentException("bots need at least one gateway URL");
            }
            gateways.forEach(Bots::address);
            if (gateways.stream().map(URI::getPath).distinct().count() > 1) {
                throw new IllegalArgumentException("the gateways' URLs must share one path, were " + gateways);
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
    public record Progress(int online, long calls, long errors, long chatReceived, long rewards, long resumes,
                           long relogins) {
    }

    private final Options options;
    private final EventLoopGroup group = new NioEventLoopGroup(2, Thread.ofPlatform().name("bots-io-", 0).daemon().factory());
    private final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(TimeUnit.MINUTES.toMicros(1), 3);
    private final Map<String, PlayerRun> runs = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    /** Every push received, by its id: how many times it arrived. */
    private final Map<String, AtomicInteger> pushesById = new ConcurrentHashMap<>();
    private final LongAdder calls = new LongAdder();
    private final LongAdder chatSent = new LongAdder();
    private final LongAdder chatReceived = new LongAdder();
    private final LongAdder rewards = new LongAdder();
    private final LongAdder resumes = new LongAdder();
    private final LongAdder relogins = new LongAdder();
    private final List<String> sessionTrouble = new CopyOnWriteArrayList<>();
    private final AtomicInteger online = new AtomicInteger();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
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
        List<InetSocketAddress> addresses = options.gateways().stream().map(Bots::address).toList();
        for (int i = 0; i < options.players(); i++) {
            String name = options.namePrefix() + "-" + (i + 1);
            List<InetSocketAddress> mine = new ArrayList<>(addresses);
            java.util.Collections.rotate(mine, -(i % addresses.size()));
            long startAfter = ramp.toNanos() * i / options.players();
            PlayerRun run = new PlayerRun(name);
            bots.runs.put(name, run);
            bots.threads.add(Thread.ofVirtual().name("bot-" + name).start(() -> bots.play(run, mine, startAfter)));
        }
        return bots;
    }

    static InetSocketAddress address(URI gateway) {
        if (!"ws".equals(gateway.getScheme()) || gateway.getHost() == null || gateway.getPort() <= 0) {
            throw new IllegalArgumentException("a gateway URL is ws://host:port/path, was " + gateway);
        }
        return new InetSocketAddress(gateway.getHost(), gateway.getPort());
    }

    public Progress progress() {
        return new Progress(online.get(), calls.sum(), errors.values().stream().mapToLong(LongAdder::sum).sum(),
                chatReceived.sum(), rewards.sum(), resumes.sum(), relogins.sum());
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
        Map<String, Integer> pushes = new LinkedHashMap<>();
        pushesById.forEach((id, count) -> pushes.put(id, count.get()));
        long suppressed = 0;
        long gaps = 0;
        for (PlayerRun run : runs.values()) {
            ClientStats stats = run.stats;
            if (stats != null) {
                suppressed += stats.duplicatesSuppressed();
                gaps += stats.gaps();
            }
        }
        return new BotsReport(options.players(), byPlayer, calls.sum(), errorCounts,
                latencyMicros.getValueAtPercentile(50) / 1000.0, latencyMicros.getValueAtPercentile(99) / 1000.0,
                latencyMicros.getMaxValue() / 1000.0, chatSent.sum(), chatReceived.sum(), rewards.sum(),
                new BotsReport.Sessions(resumes.sum(), relogins.sum(), suppressed, gaps, List.copyOf(sessionTrouble)),
                pushes);
    }

    /** Stops the players, waits up to 10 s for them to log out, and releases the clients' threads. */
    @Override
    public void close() {
        stop();
        try {
            await(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closed.compareAndSet(false, true)) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private boolean running() {
        return !stopping.get() && System.nanoTime() - endNanos < 0;
    }

    private void play(PlayerRun run, List<InetSocketAddress> gateways, long startAfterNanos) {
        LockSupport.parkNanos(startAfterNanos); // spreads the logins; a simulated player's own pacing
        if (!running()) {
            return;
        }
        GatewayClient client = GatewayClient.builder().addresses(gateways).transport(Transport.WEBSOCKET)
                .webSocketPath(options.gateways().getFirst().getPath())
                .credentials(run.name.getBytes(StandardCharsets.UTF_8)).eventLoopGroup(group)
                .callTimeout(CALL_TIMEOUT).reconnect(Duration.ofMillis(50), Duration.ofSeconds(1), GIVE_UP_AFTER)
                .onPush((seq, payload) -> pushed(payload))
                .onEvent(event -> sessionEvent(run, event))
                .build();
        try {
            if (!logIn(run, client)) {
                return;
            }
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (running() && !client.isFinished()) {
                if (random.nextInt(100) < options.chatPercent()) {
                    ChatAck said = call(run, client, SAY_ROUTE,
                            ChatLine.newBuilder().setText("hello from " + run.name).build(), ChatAck.parser());
                    if (said != null) {
                        chatSent.increment();
                    }
                } else {
                    ActReply act = call(run, client, ACT_ROUTE, ActRequest.newBuilder().setAction("click").build(),
                            ActReply.parser());
                    if (act != null) {
                        run.served(act.getNode(), act.getRecovered());
                        run.clicks.clicked(act.getCounter());
                    } else {
                        run.clicks.unanswered();
                    }
                }
                long think = options.think().toNanos();
                if (think > 0) {
                    LockSupport.parkNanos(think / 2 + random.nextLong(think)); // the player's pace, with jitter
                }
            }
            if (!client.isFinished()) {
                LogoutReply logout = call(run, client, LOGOUT_ROUTE, LogoutRequest.getDefaultInstance(),
                        LogoutReply.parser());
                if (logout != null) {
                    run.clicks.finalCount(logout.getCounter());
                }
                try {
                    client.logout().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    failed(run, "LOGOUT");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (run.loggedIn) {
                online.decrementAndGet();
            }
            run.stats = client.stats();
            client.close();
        }
    }

    /**
     * Logs in (the client tries every gateway, again and again, for a while), then calls the logic
     * node's login, again every second while it fails (the logic nodes may not be up yet).
     */
    private boolean logIn(PlayerRun run, GatewayClient client) throws InterruptedException {
        try {
            client.connect().get(GIVE_UP_AFTER.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            failed(run, "CONNECT");
            return false;
        }
        LoginReply login = null;
        while (login == null && running() && !client.isFinished()) {
            login = call(run, client, LOGIN_ROUTE, LoginRequest.newBuilder().setPlayer(run.name).build(),
                    LoginReply.parser());
            if (login == null) {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1)); // the logic nodes may not be up yet: a player tries again
            }
        }
        if (login == null) {
            return false;
        }
        run.served(login.getNode(), false);
        run.clicks.loggedIn(login.getCounter());
        run.loggedIn = true;
        online.incrementAndGet();
        return true;
    }

    /** One call through the gateway; null (and the failure counted by code) when it failed. */
    private <R> R call(PlayerRun run, GatewayClient client, String route, MessageLite request, Parser<R> parser)
            throws InterruptedException {
        long started = System.nanoTime();
        R answer;
        try {
            byte[] bytes = client.call(route, request.toByteArray())
                    .get(CALL_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
            answer = parser.parseFrom(bytes);
        } catch (ExecutionException e) {
            failed(run, BraidException.from(e.getCause()).code().name());
            return null;
        } catch (TimeoutException e) {
            failed(run, "TIMEOUT");
            return null;
        } catch (InvalidProtocolBufferException e) {
            failed(run, "BAD_ANSWER");
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

    /** On the client's event loop: records the push by id, counts chat lines and rewards. */
    private void pushed(byte[] payload) {
        PlayerPush push;
        try {
            push = PlayerPush.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            sessionTrouble.add("a push that is not a PlayerPush (" + payload.length + " bytes)");
            return;
        }
        pushesById.computeIfAbsent(push.getId(), id -> new AtomicInteger()).incrementAndGet();
        if (push.hasChat()) {
            chatReceived.increment();
        } else if (push.hasReward()) {
            rewards.increment();
        }
    }

    /** On the client's event loop: resumes and relogins counted; gaps and give-ups kept in words. */
    private void sessionEvent(PlayerRun run, ClientEvent event) {
        switch (event.type()) {
            case RESUMED -> resumes.increment();
            case RELOGGED -> {
                relogins.increment();
                if (sessionTrouble.size() < 100) {
                    sessionTrouble.add(run.name + " logged in afresh: " + event.detail());
                }
            }
            case GAP, KICKED -> sessionTrouble.add(run.name + " " + event.type() + ": " + event.detail());
            case CLOSED -> {
                if (running() && run.loggedIn) {
                    sessionTrouble.add(run.name + " finished early: " + event.detail());
                }
            }
            default -> { }
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** One player's record, written by its own thread, read by the report. */
    private static final class PlayerRun {
        final String name;
        final List<String> nodes = new CopyOnWriteArrayList<>();
        final AtomicLong calls = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final ClickLedger clicks = new ClickLedger();
        volatile boolean loggedIn;
        volatile boolean recovered;
        volatile ClientStats stats;

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
            return new BotsReport.PlayerRecord(name, nodes, calls.get(), errors.get(), loggedIn, recovered,
                    clicks.violations(), clicks.examples());
        }
    }

    /** One progress line: elapsed time, players online, calls per second since the last line. */
    public static String progressLine(Duration elapsed, int players, Progress previous, Progress now, Duration interval) {
        double seconds = Math.max(0.001, interval.toMillis() / 1000.0);
        return String.format("[%3ds] players online %d/%d · calls/s %.0f · failed %d · chat deliveries %d · rewards %d"
                        + " · resumed %d · relogged %d", elapsed.toSeconds(), now.online(), players,
                (now.calls() - previous.calls()) / seconds, now.errors(), now.chatReceived(), now.rewards(),
                now.resumes(), now.relogins());
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
        bots.close();
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return;
        }
        System.exit(report.everyPlayerOnExactlyOneNode() ? 0 : 1);
    }
}
