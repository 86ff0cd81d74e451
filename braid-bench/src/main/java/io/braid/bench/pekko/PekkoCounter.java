package io.braid.bench.pekko;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The sharded entity of the {@code pekko} section: a counter per entity id, the Pekko twin of a
 * braid player whose state is a click counter. {@link Increment} adds one and answers the new
 * count with the name of the node that holds the entity (so a caller sees where it answered from).
 * One instance per entity id, run by Pekko one message at a time; not shared.
 */
final class PekkoCounter extends AbstractBehavior<PekkoCounter.Command> {
    /** The entity type every node (and the caller's proxy) registers. */
    static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "counter");

    /** What an entity accepts; bound to {@link CounterSerializer} in the nodes' configuration. */
    interface Command {
    }

    /**
     * Adds one to the count and answers {@link Value}.
     *
     * @param payload the request's body (the bench sends 64 B; the entity does not read it)
     * @param replyTo where the answer goes (the ask's temporary actor)
     */
    record Increment(byte[] payload, ActorRef<Value> replyTo) implements Command {
    }

    /**
     * An entity's answer.
     *
     * @param count the count after the increment
     * @param node  the name of the node that holds the entity
     */
    record Value(long count, String node) {
    }

    private final String node;
    private long count;

    private PekkoCounter(ActorContext<Command> context, String node) {
        super(context);
        this.node = node;
    }

    /** A new counter at zero, on the node called {@code node}. */
    static Behavior<Command> create(String node) {
        return Behaviors.setup(context -> new PekkoCounter(context, node));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(Increment.class, this::increment).build();
    }

    private Behavior<Command> increment(Increment increment) {
        increment.replyTo().tell(new Value(++count, node));
        return this;
    }
}
