package io.braid.examples.gateway;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.examples.NodeSettings;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.chat.ChatService;
import io.braid.examples.logic.LogicService;
import io.braid.gateway.Gateway;
import io.braid.gateway.RouteTable;
import io.braid.runtime.Braid;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The demo's gateway: a node of service {@value #SERVICE} running braid-gateway's {@link Gateway}
 * with the demo's login (the player's name is the credential; the token is {@code player:<name>}),
 * the routes the page and the bots call, and the WebSocket front end at {@code ws://host:port/ws}.
 * Sessions, binding, duplicate-login kicks, pushes and resume are braid-gateway's; logic and chat
 * push with {@code GatewayPush}. The player page is {@link PageServer}'s, on a port of its own.
 *
 * <p>{@link #close()} ends it cleanly (every session CLOSED and unbound, the node deregistered);
 * {@link #crash()} stands in for a kill -9 in one JVM. Thread-safe; both idempotent.
 */
public final class GatewayService implements AutoCloseable {
    public static final String SERVICE = "gateway";
    /** What a client may call: {@code service.method}, each with the player's token. */
    public static final RouteTable ROUTES = RouteTable.of(
            LogicService.SERVICE + "." + LogicService.LOGIN,
            LogicService.SERVICE + "." + LogicService.ACT,
            LogicService.SERVICE + "." + LogicService.LOGOUT,
            ChatService.SERVICE + "." + ChatService.SAY);

    public static final Setting HTTP_PORT = new Setting("--http-port", "GATEWAY_HTTP_PORT", "8080",
            "the port of the players' WebSocket (ws://host:port/ws); 0 picks a free one");
    public static final Setting HTTP_HOST = new Setting("--http-host", "GATEWAY_HTTP_HOST", "127.0.0.1",
            "the address the WebSocket and the player page bind (0.0.0.0 in containers)");
    public static final List<Setting> SETTINGS = Stream.concat(NodeSettings.ALL.stream(),
            Stream.of(HTTP_PORT, HTTP_HOST, PageServer.PAGE_PORT)).toList();

    /** How long a player's call may take in the logic or chat service. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(3);
    private static final Pattern PLAYER_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,40}");

    private final Braid braid;
    private final EventLoopGroup group;
    private final Gateway gateway;
    private final String host;
    private final AtomicBoolean closed = new AtomicBoolean();

    private GatewayService(Braid braid, EventLoopGroup group, Gateway gateway, String host) {
        this.braid = braid;
        this.group = group;
        this.gateway = gateway;
        this.host = host;
    }

    /**
     * Starts a gateway node from {@code builder} (plane and address set) with its WebSocket on
     * {@code host:port} (0 picks a free port).
     *
     * @throws IllegalStateException when the port cannot be bound (its cause a BindException)
     */
    public static GatewayService start(Braid.Builder builder, String host, int port) {
        return start(builder, host, port, Gateway.DEFAULT_RESUME_GRACE);
    }

    /** The same, with a resume grace of its own (see {@code Gateway.Builder.resumeGrace}): tests shorten it. */
    public static GatewayService start(Braid.Builder builder, String host, int port, Duration resumeGrace) {
        // The front ends' event loops, lent to the gateway: this service shuts them down after the gateway.
        EventLoopGroup group = new NioEventLoopGroup(2, Thread.ofPlatform().name("gateway-io-", 0).daemon().factory());
        Braid braid = null;
        try {
            braid = builder.service(SERVICE).start();
            Gateway gateway = Gateway.builder(braid).login(GatewayService::login).routes(ROUTES)
                    .host(host).webSocket(port).eventLoopGroup(group).callTimeout(CALL_TIMEOUT)
                    .resumeGrace(resumeGrace).start();
            return new GatewayService(braid, group, gateway, host);
        } catch (RuntimeException e) {
            if (braid != null) {
                braid.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The login hook: the credentials are the player's name in UTF-8; the name is the identity. */
    static CompletableFuture<String> login(byte[] credentials, SocketAddress remote) {
        String name = new String(credentials, StandardCharsets.UTF_8);
        if (!PLAYER_NAME.matcher(name).matches()) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAUTHENTICATED,
                    "a player name is 1 to 40 letters, digits, '_', '.' or '-'"));
        }
        return CompletableFuture.completedFuture(token(name));
    }

    /** The token of a player: the name is the identity, so a new login finds the same logic node. */
    public static String token(String player) {
        return "player:" + player;
    }

    /** The player's name in {@code token}, or the token itself when it is not a player's. */
    public static String player(String token) {
        return token.startsWith("player:") ? token.substring("player:".length()) : token;
    }

    public Braid braid() {
        return braid;
    }

    public String nodeId() {
        return braid.node().id();
    }

    /** The port of the players' WebSocket. */
    public int port() {
        return gateway.webSocketAddress().orElseThrow().getPort();
    }

    /** Where players connect: {@code ws://host:port/ws}. */
    public URI webSocketUrl() {
        String shown = "0.0.0.0".equals(host) || "::".equals(host) ? "localhost" : host;
        return URI.create("ws://" + (shown.indexOf(':') >= 0 ? "[" + shown + "]" : shown) + ":" + port()
                + Gateway.DEFAULT_WEBSOCKET_PATH);
    }

    /** False once closed or crashed. */
    public boolean isUp() {
        return !closed.get();
    }

    /** Players with a session attached to this gateway now. */
    public int playersOnline() {
        return closed.get() ? 0 : gateway.sessionCount();
    }

    /** Ends the gateway cleanly: each session CLOSED and unbound, then the node leaves the cluster. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        gateway.close();
        braid.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * A crash, as near as one JVM allows: the gateway stops without a word (every player's
     * connection dropped, no session ended or unbound, no CLOSED event, nothing written to the
     * control plane: braid-gateway's failure drill, {@link Gateway#crash()}), then the node
     * closes. Unlike a kill -9, the node deregisters at once instead of after the discovery
     * TTL. Whatever only this gateway held is gone; what braid-gateway keeps in the control plane
     * (the sessions' records and push logs) is not.
     */
    public void crash() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            gateway.crash();
        } finally {
            braid.close();
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** Runs one gateway and its player page until SIGTERM or, with --exit-on-stdin-eof, until stdin closes. */
    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(SERVICE, SETTINGS, args, System.getenv());
        String host = settings.get(HTTP_HOST);
        GatewayService gateway = start(NodeSettings.builder(SERVICE, settings), host,
                settings.getInt(HTTP_PORT, 0, 65_535));
        PageServer page;
        try {
            page = PageServer.start(gateway.braid(), host, settings.getInt(PageServer.PAGE_PORT, 0, 65_535),
                    () -> List.of(gateway.webSocketUrl()));
        } catch (RuntimeException e) {
            gateway.close();
            throw e;
        }
        System.out.printf("ready: gateway %s at %s on %s; websocket %s; player page %s%n", gateway.nodeId(),
                gateway.braid().node().address(), NodeSettings.plane(settings), gateway.webSocketUrl(), page.url());
        System.out.flush();
        NodeSettings.runUntilStopped(settings, () -> {
            page.close();
            gateway.close();
        });
    }
}
