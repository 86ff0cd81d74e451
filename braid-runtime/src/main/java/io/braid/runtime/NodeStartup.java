package io.braid.runtime;

import io.braid.api.Channel;
import io.braid.api.Client;
import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.PlayerStore;
import io.braid.api.Pubsub;
import io.braid.api.Server;
import io.braid.api.internal.PlayerListener;
import io.braid.api.internal.PlayerViewContributor;
import io.braid.monitor.internal.MonitorResources;
import io.braid.monitor.internal.Monitoring;
import io.braid.monitor.internal.NodeCaller;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import io.braid.rpc.internal.Transports;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a node from its options, part by part in this order: monitoring (meters and tracing),
 * event loops, the scheduler, the control plane (Redis connection, discovery, self-fence and
 * ownership, link cache, pub-sub), the RPC client, the RPC server, registration, election, the
 * leader's chores, the node's subscriptions, the monitor. Each part goes onto the node's
 * {@link Closer} as it starts; if one fails, everything started so far is closed again, in
 * reverse, and the failure is thrown.
 */
final class NodeStartup {
    private static final Logger log = LoggerFactory.getLogger(Braid.class); // the node's lifecycle, under one name

    /** The parts of a started node that {@link Braid} answers with. */
    record Parts(Server server, Client client, Discover discover, Elector elector, LinkCache links,
                 Pubsub pubsub, Monitoring monitoring, SelfFence fence, ScheduledExecutorService scheduler,
                 Closer closer, PlayerHome<?> players, ControlPlane plane, ClusterTimeline timeline,
                 List<PlayerViewContributor> contributors, EventLoopGroup eventLoops) {
    }

    private NodeStartup() {
    }

    static Braid start(NodeOptions options) {
        options.beforeStartHooks.forEach(Runnable::run);
        Closer closer = new Closer();
        // First made, last closed: every part below may have tasks on it until it closes.
        ScheduledExecutorService scheduler = options.scheduler != null ? options.scheduler : ownScheduler(options);
        if (options.scheduler == null) {
            closer.push(scheduler::shutdownNow);
        }
        Monitoring monitoring = monitoring(options, scheduler);
        closer.push(monitoring);
        try {
            EventLoopGroup group = Transports.newGroup(options.ioThreads, "braid-" + options.nodeId);
            closer.push(() -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly());

            ControlPlane plane = ControlPlane.open(options, group, closer);
            Discover discover = plane.startDiscover();
            // Self-fencing: stop serving players before the cluster could give them to another node,
            // and from the moment close() begins; and refuse a player the moment it was given away.
            SelfFence fence = plane.selfFence(options.ticker);
            Ownership ownership = new Ownership(fence, options.nodeId, options.service, options.ticker);
            LinkCache links = plane.startLinkCache(monitoring.linkCacheListener(), ownership);
            Pubsub pubsub = plane.startPubsub(monitoring.pubsubListener());
            ClusterEvents events = new ClusterEvents(pubsub);
            // Lost Redis: the registration unconfirmed for the fence window (a late heartbeat is not an outage).
            ClusterTimeline timeline = new ClusterTimeline(options.nodeId, options.service, events,
                    SelfFence.window(options.ttl), System::currentTimeMillis);
            closer.push(timeline); // before the pub-sub closes
            if (options.monitor != null) {
                timeline.follow(pubsub); // a monitor shows the events of nodes gone since
            }
            PlayerListener playerListener = timeline.listening(monitoring.playerListener());

            RpcClient client = client(options, monitoring, group, discover, links);
            closer.push(client);
            PlayerHome<?> players = options.players == null ? null : new PlayerHome<>(options.players,
                    options.nodeId, options.service, scheduler, options.ticker, ownership, links, options.shutdownGrace,
                    discover, new NodeCaller(nodeCaller(options, group, discover, closer)),
                    playerStore(options.players, plane), playerListener, new PlayerRecords(System::currentTimeMillis),
                    timeline);
            RpcServer server = server(options, monitoring, group, ownership, scheduler);
            if (players != null) {
                players.serveOn(server); // before start: a player method is never NOT_FOUND
                ownership.tellPlayers(players::gone, players::activeTokens);
            }
            server.start();
            closer.push(server);
            ownership.serve(server::openStreamTokens, server::endTokenStreams, links);

            Node node = new Node(options.nodeId, options.service, options.host, server.port(), options.weight,
                    NodeState.ACTIVE, options.metadata);
            discover.register(node);
            // The server closes (its calls in flight finish) before the node deregisters: while a
            // call runs here the cluster must not hand its player to another node.
            closer.pop();
            closer.push(() -> discover.deregister(options.nodeId));
            if (players != null) {
                closer.push(players::endRemaining); // after the server: whoever its lanes could not end
            }
            closer.push(server);
            if (players != null) {
                // Before the server: the gate is closed by now, so no call starts; each player ends in its lane.
                closer.push(players::deactivateAll);
                players.startChores();
            }

            // Registered: from now on a closed fence is news (before, a slow start may outlast its window).
            fence.listen(playerListener);
            long checkFence = SelfFence.CHECK_EVERY.toNanos(); // its meter follows it with no calls coming
            ScheduledFuture<?> fenceCheck = scheduler.scheduleWithFixedDelay(() -> {
                fence.getAsBoolean();
                timeline.registrationAge(fence.sinceConfirmed());
            }, checkFence, checkFence, TimeUnit.NANOSECONDS);
            closer.push(() -> fenceCheck.cancel(false));

            timeline.started(node.address());
            Elector elector = plane.startElector();
            closer.push(new LeaderChores(options, discover, elector, links, plane, events, timeline).start(scheduler));

            log.info("braid node {} of {} started at {} ({})", options.nodeId, options.service, node.address(),
                    plane.description());
            Pubsub traced = monitoring.traced(pubsub); // what users see: publishes and deliveries traced
            for (NodeOptions.Subscriber subscriber : options.subscribers) {
                Channel channel = traced.topic(subscriber.topic()).subscribe(subscriber.channel(), subscriber.options());
                closer.push(channel);
                channel.onMessage(subscriber.handler());
            }

            // The builder's contributors, and those a module adds once the node runs (the gateway's).
            List<PlayerViewContributor> contributors = new CopyOnWriteArrayList<>(options.playerViewContributors);
            Braid braid = new Braid(options, node, new Parts(server, client, discover, elector,
                    new AnnouncingLinkCache(links, events), traced, monitoring, fence, scheduler, closer, players, plane,
                    timeline, contributors, group));
            // Last to start, first to close: the monitor stops before the node deregisters, and
            // before what the node lent it.
            monitoring.start(new MonitoredNode(braid, links, pubsub, timeline, players, contributors),
                    monitorResources(options, group, discover, closer));
            closer.push(monitoring);
            options.afterStartHooks.forEach(hook -> hook.accept(braid));
            return braid;
        } catch (RuntimeException e) {
            closer.closeAll((part, failure) -> e.addSuppressed(failure));
            throw e;
        }
    }

    /** The store a players definition saves to: none when it saves nothing, else its own or the plane's. */
    private static PlayerStore playerStore(Players<?> players, ControlPlane plane) {
        if (players.saving == Players.Saving.NONE) {
            return null;
        }
        return players.store != null ? players.store : plane.playerStore();
    }

    private static Monitoring monitoring(NodeOptions options, ScheduledExecutorService scheduler) {
        Monitoring.Builder settings = Monitoring.builder(options.service, options.nodeId).ticker(options.ticker)
                .scheduler(scheduler).tracePlayers(options.tracePlayers);
        if (options.monitor != null) {
            settings.http(options.monitor);
        }
        if (options.meterRegistry != null) {
            settings.meterRegistry(options.meterRegistry);
        }
        if (options.openTelemetry != null) {
            settings.openTelemetry(options.openTelemetry);
        }
        return settings.build();
    }

    /** The node's own scheduler: one daemon thread; cancelled tasks leave its queue at once. */
    private static ScheduledExecutorService ownScheduler(NodeOptions options) {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("braid-scheduler-" + options.nodeId).factory());
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    /**
     * What the node lends its monitor's HTTP server, when it has one: the event loops, and a client
     * of its own for calling one node by id (no interceptors: the monitor's calls are neither timed
     * nor traced; no deadline propagation; one attempt). The client goes onto {@code closer}.
     */
    private static MonitorResources monitorResources(NodeOptions options, EventLoopGroup group, Discover discover,
                                                     Closer closer) {
        if (options.monitor == null) {
            return null;
        }
        return new MonitorResources(group, Transports.serverChannel(group), nodeCaller(options, group, discover, closer));
    }

    /**
     * A client for calling one node by id ({@link NodeCaller}): no interceptors (neither timed nor
     * traced), no deadline propagation, one attempt. It goes onto {@code closer}.
     */
    private static RpcClient nodeCaller(NodeOptions options, EventLoopGroup group, Discover discover, Closer closer) {
        RpcClient.Builder settings = RpcClient.builder().discover(NodeCaller.byNodeId(discover)).nodeId(options.nodeId)
                .eventLoopGroup(group).propagateDeadlines(false).maxAttempts(1).shutdownGrace(Duration.ofSeconds(1));
        if (options.clientTls != null) {
            settings.tls(options.clientTls);
        }
        RpcClient nodes = settings.build();
        closer.push(nodes);
        return nodes;
    }

    private static RpcClient client(NodeOptions options, Monitoring monitoring, EventLoopGroup group,
                                    Discover discover, LinkCache links) {
        RpcClient.Builder settings = RpcClient.builder().discover(discover).linkCache(links).nodeId(options.nodeId)
                .eventLoopGroup(group).defaultTimeout(options.defaultTimeout).shutdownGrace(options.shutdownGrace)
                .ticker(options.ticker);
        if (options.clientTls != null) {
            settings.tls(options.clientTls);
        }
        settings.intercept(monitoring.clientInterceptor()); // first: it times and traces the whole call
        options.clientInterceptors.forEach(settings::intercept);
        options.codecs.forEach(settings::codec);
        return settings.build();
    }

    private static RpcServer server(NodeOptions options, Monitoring monitoring, EventLoopGroup group,
                                    Ownership ownership, ScheduledExecutorService scheduler) {
        RpcServer.Builder settings = RpcServer.builder().host(options.bindHost).port(options.rpcPort)
                .eventLoopGroup(group).shutdownGrace(options.shutdownGrace).ticker(options.ticker).scheduler(scheduler)
                .nodeId(options.nodeId);
        if (options.serverTls != null) {
            settings.tls(options.serverTls);
        }
        settings.intercept(monitoring.serverInterceptor()); // first: the trace is current for the rest
        settings.laneListener(monitoring.laneListener()); // lane meters, hot players, lane spans
        options.serverInterceptors.forEach(settings::intercept);
        options.codecs.forEach(settings::codec);
        settings.tokenGate(ownership);
        RpcServer server = settings.build();
        monitoring.handlers().forEach(server::handleBytes); // braid.stats, braid.drain, braid.weight
        options.handlers.forEach(h -> h.accept(server));
        return server;
    }
}
