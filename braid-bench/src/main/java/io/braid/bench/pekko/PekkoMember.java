package io.braid.bench.pekko;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * One member of the bench's Pekko cluster: an actor system on loopback (Artery over TCP, a free
 * port), joined to the cluster, with the counter's sharding registered. A member with the
 * {@link #ENTITY_ROLE} hosts counters; one with the {@link #CALLER_ROLE} only routes to them (its
 * shard region is a proxy), as braid's caller is not a logic node. Closing it terminates the actor
 * system. The settings, in {@link #config}: remember-entities off (a counter starts afresh on the
 * node it lands on: no Pekko Persistence), 100 shards, no periodic rebalance (shards move only when
 * a node leaves), the {@link CounterSerializer} for the counter's messages, one dispatcher sized by
 * Pekko's defaults.
 */
final class PekkoMember implements AutoCloseable {
    static final String SYSTEM = "braid-bench";
    static final String ENTITY_ROLE = "entity";
    static final String CALLER_ROLE = "caller";
    static final String HOST = "127.0.0.1";
    static final int SHARDS = 100;
    private static final Duration JOIN = Duration.ofSeconds(60);

    private final ActorSystem<Void> system;
    private final ActorRef<ShardingEnvelope<PekkoCounter.Command>> region;

    private PekkoMember(ActorSystem<Void> system, ActorRef<ShardingEnvelope<PekkoCounter.Command>> region) {
        this.system = system;
        this.region = region;
    }

    /**
     * Starts a member and joins it to the member at {@code seedPort} on loopback (0: it joins
     * itself, starting a new cluster); returns once it is Up.
     *
     * @param node the node's name, answered by its counters ({@link PekkoCounter.Value#node})
     * @param role {@link #ENTITY_ROLE} or {@link #CALLER_ROLE}
     */
    static PekkoMember start(String node, String role, int seedPort) {
        if (!role.equals(ENTITY_ROLE) && !role.equals(CALLER_ROLE)) {
            throw new IllegalArgumentException("role must be " + ENTITY_ROLE + " or " + CALLER_ROLE + ", not " + role);
        }
        if (seedPort < 0 || seedPort > 65_535) {
            throw new IllegalArgumentException("seedPort must be 0 (seed itself) to 65535, was " + seedPort);
        }
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM, config(role));
        try {
            Cluster cluster = Cluster.get(system);
            Address seed = seedPort == 0 ? cluster.selfMember().address() : address(seedPort);
            cluster.manager().tell(Join.create(seed));
            ActorRef<ShardingEnvelope<PekkoCounter.Command>> region = ClusterSharding.get(system)
                    .init(Entity.of(PekkoCounter.KEY, context -> PekkoCounter.create(node)).withRole(ENTITY_ROLE));
            Await.until(JOIN, node + " is Up in the Pekko cluster",
                    () -> cluster.selfMember().status().equals(MemberStatus.up()));
            return new PekkoMember(system, region);
        } catch (RuntimeException | Error e) {
            system.terminate();
            throw e;
        }
    }

    /** The address of the member whose Artery port is {@code port}, on loopback. */
    static Address address(int port) {
        return new Address("pekko", SYSTEM, HOST, port);
    }

    /** The settings every member runs with, {@code role} its only role. */
    static Config config(String role) {
        return ConfigFactory.parseString(String.format(Locale.ROOT, """
                pekko.loglevel = WARNING
                pekko.stdout-loglevel = WARNING
                pekko.log-dead-letters = off
                pekko.log-dead-letters-during-shutdown = off
                pekko.actor.provider = cluster
                pekko.actor.serializers.braid-counter = "%s"
                pekko.actor.serialization-bindings {
                  "%s" = braid-counter
                  "%s" = braid-counter
                }
                pekko.remote.artery.transport = tcp
                pekko.remote.artery.canonical.hostname = "%s"
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.roles = [%s]
                pekko.cluster.jmx.enabled = off
                pekko.cluster.log-info = off
                pekko.cluster.sharding.number-of-shards = %d
                pekko.cluster.sharding.remember-entities = off
                pekko.cluster.sharding.rebalance-interval = 1 h
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                pekko.cluster.run-coordinated-shutdown-when-down = on
                """, CounterSerializer.class.getName(), PekkoCounter.Command.class.getName(),
                PekkoCounter.Value.class.getName(), HOST, role, SHARDS)).withFallback(ConfigFactory.load());
    }

    /** This member's Artery port. */
    int port() {
        return Cluster.get(system).selfMember().address().getPort().get();
    }

    /** Members this member sees Up with {@code role}. */
    long upWithRole(String role) {
        long up = 0;
        for (Member member : Cluster.get(system).state().getMembers()) {
            if (member.status().equals(MemberStatus.up()) && member.hasRole(role)) {
                up++;
            }
        }
        return up;
    }

    /** True while this member sees a member at {@code port} in any state. */
    boolean seesMemberAt(int port) {
        for (Member member : Cluster.get(system).state().getMembers()) {
            if (member.address().getPort().orElse(-1) == port) {
                return true;
            }
        }
        return false;
    }

    /** Asks the member at {@code port} to leave: its shards hand off, then it exits the cluster. */
    void makeLeave(int port) {
        Cluster.get(system).manager().tell(org.apache.pekko.cluster.typed.Leave.create(address(port)));
    }

    ActorSystem<Void> system() {
        return system;
    }

    ClusterSharding sharding() {
        return ClusterSharding.get(system);
    }

    ActorRef<ShardingEnvelope<PekkoCounter.Command>> region() {
        return region;
    }

    /** Terminates the actor system (leaving the cluster gracefully when still in it) and waits up to 30 s. */
    @Override
    public void close() throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
