package io.braid.examples.gateway;

import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.CallContext;
import io.braid.examples.JsonFrames;
import io.braid.examples.NodeSettings;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.chat.ChatService;
import io.braid.examples.logic.LogicService;
import io.braid.examples.proto.ChatLine;
import io.braid.examples.proto.NodeStats;
import io.braid.examples.proto.PushAck;
import io.braid.examples.proto.Reward;
import io.braid.examples.proto.ServerFrame;
import io.braid.runtime.Braid;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The gateway: players connect to it over WebSocket ({@code /ws}, JSON frames, see
 * {@link JsonFrames}); it serves the player page at {@code /} and the logic nodes' latest stats at
 * {@code /stats}. At login it links the player's token to itself in the link cache, so any node can
 * push to the player by invoking {@value #SERVICE}/{@value #PUSH} with the token. It forwards game
 * calls to the logic service by token, chat lines to the chat service, and pushes every world chat
 * line (read through a channel of its own on {@value ChatService#WORLD}) to its players.
 * Thread-safe; {@link #close()} is idempotent.
 */
public final class GatewayService implements AutoCloseable {
    public static final String SERVICE = "gateway";
    public static final String PUSH = "push";

    public static final Setting HTTP_PORT = new Setting("--http-port", "GATEWAY_HTTP_PORT", "8080",
            "the port of the player page and the WebSocket; 0 picks a free one");
    public static final Setting HTTP_HOST = new Setting("--http-host", "GATEWAY_HTTP_HOST", "127.0.0.1",
            "the address the player page binds (0.0.0.0 in containers)");
    public static final List<Setting> SETTINGS = Stream.concat(NodeSettings.ALL.stream(),
            Stream.of(HTTP_PORT, HTTP_HOST)).toList();

    /** How long a player waits for the logic or chat service before the gateway answers with an error. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration STATS_FRESH = Duration.ofSeconds(5);

    private final PlayerSessions sessions = new PlayerSessions();
    private final Map<String, NodeStats> logicStats = new ConcurrentHashMap<>();
    private final AtomicLong chatLinesIn = new AtomicLong();
    private final AtomicLong pushesDelivered = new AtomicLong();
    private volatile Braid braid;
    private EventLoopGroup httpGroup;
    private io.netty.channel.Channel httpChannel;
    private Channel chatChannel;
    private Channel statsChannel;
    private String pageHost;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private GatewayService() {
    }

    /**
     * Starts a gateway node from {@code builder} (plane and address set) and its HTTP server on
     * {@code httpHost:httpPort} (port 0 picks a free one).
     */
    public static GatewayService start(Braid.Builder builder, String httpHost, int httpPort) {
        GatewayService gateway = new GatewayService();
        gateway.braid = builder.service(SERVICE).handleAsync(PUSH, Reward.parser(), gateway::push).start();
        try {
            Braid braid = gateway.braid;
            String channel = braid.node().id();
            ChannelOptions ephemeral = ChannelOptions.DEFAULT.withDurable(false);
            gateway.chatChannel = braid.topic(ChatService.WORLD).subscribe(channel, ephemeral);
            gateway.chatChannel.onMessage(message -> gateway.broadcast(ChatLine.parseFrom(message.body())));
            gateway.statsChannel = braid.topic(LogicService.STATS_TOPIC).subscribe(channel, ephemeral);
            gateway.statsChannel.onMessage(message -> {
                NodeStats stats = NodeStats.parseFrom(message.body());
                gateway.logicStats.put(stats.getNode(), stats);
            });

            gateway.httpGroup = new NioEventLoopGroup(2, Thread.ofPlatform().name("gateway-http-", 0).daemon().factory());
            gateway.httpChannel = new ServerBootstrap().group(gateway.httpGroup).channel(NioServerSocketChannel.class)
                    .childHandler(new GatewayChannelInitializer(gateway))
                    .bind(httpHost, httpPort).syncUninterruptibly().channel();
            gateway.pageHost = "0.0.0.0".equals(httpHost) || "::".equals(httpHost) ? "localhost" : httpHost;
            return gateway;
        } catch (Exception e) { // a failed bind arrives as a checked BindException
            gateway.close();
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("gateway cannot listen on " + httpHost + ":" + httpPort + ": " + e, e);
        }
    }

    public Braid braid() {
        return braid;
    }

    public String nodeId() {
        return braid.node().id();
    }

    /** The port the player page and the WebSocket listen on. */
    public int httpPort() {
        return ((InetSocketAddress) httpChannel.localAddress()).getPort();
    }

    /** Where a person opens the player page. */
    public String pageUrl() {
        return "http://" + (pageHost.indexOf(':') >= 0 ? "[" + pageHost + "]" : pageHost) + ":" + httpPort() + "/";
    }

    /** Players logged in through this gateway now. */
    public int playersOnline() {
        return sessions.size();
    }

    /** Chat lines this gateway received from the world topic. */
    public long chatLinesIn() {
        return chatLinesIn.get();
    }

    /** Chat lines written to players' sockets, one per line per player. */
    public long chatLinesDelivered() {
        return sessions.chatDelivered();
    }

    /** Pushes from other nodes written to players' sockets. */
    public long pushesDelivered() {
        return pushesDelivered.get();
    }

    /** The latest stats of each logic node heard from within the last few seconds, by node id. */
    public Map<String, NodeStats> logicStats() {
        long freshSince = System.currentTimeMillis() - STATS_FRESH.toMillis();
        Map<String, NodeStats> fresh = new TreeMap<>();
        logicStats.forEach((node, stats) -> {
            if (stats.getAtMillis() >= freshSince) {
                fresh.put(node, stats);
            }
        });
        return fresh;
    }

    PlayerSessions sessions() {
        return sessions;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (httpChannel != null) {
            httpChannel.close().syncUninterruptibly();
        }
        sessions.closeAll();
        if (httpGroup != null) {
            httpGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (chatChannel != null) {
            chatChannel.close();
        }
        if (statsChannel != null) {
            statsChannel.close();
        }
        if (braid != null) {
            braid.close();
        }
    }

    private CompletionStage<PushAck> push(CallContext ctx, Reward reward) {
        PlayerSession session = sessions.get(ctx.token());
        if (session == null) {
            // The player left this gateway: drop our link if it still points here, so the token is not routed to us again.
            braid.linkCache().unlinkAsync(ctx.token(), braid.node());
            return CompletableFuture.completedFuture(PushAck.newBuilder().setDelivered(false).build());
        }
        session.send(ServerFrame.newBuilder().setReward(reward).build());
        pushesDelivered.incrementAndGet();
        return CompletableFuture.completedFuture(PushAck.newBuilder().setDelivered(true).build());
    }

    private void broadcast(ChatLine line) {
        chatLinesIn.incrementAndGet();
        sessions.broadcast(JsonFrames.print(ServerFrame.newBuilder().setChat(line)));
    }

    /** Runs one gateway until SIGTERM or, with --exit-on-stdin-eof, until stdin closes. */
    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(SERVICE, SETTINGS, args, System.getenv());
        GatewayService gateway = start(NodeSettings.builder(SERVICE, settings), settings.get(HTTP_HOST),
                settings.getInt(HTTP_PORT, 0, 65_535));
        System.out.printf("ready: gateway %s at %s on %s; player page %s%n", gateway.nodeId(),
                gateway.braid().node().address(), NodeSettings.plane(settings), gateway.pageUrl());
        System.out.flush();
        NodeSettings.runUntilStopped(settings, gateway::close);
    }
}
