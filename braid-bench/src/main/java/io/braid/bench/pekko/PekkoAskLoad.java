package io.braid.bench.pekko;

import io.braid.bench.core.Load;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Pekko's {@code ask} to a sharded counter from the caller member (a shard-region proxy, hosting
 * no entity): an {@link PekkoCounter.Increment} with the payload, answered by a
 * {@link PekkoCounter.Value}; the entity ids taken round robin from {@code entity-0} on. Entity
 * refs are made once, as a caller that keeps them would.
 */
final class PekkoAskLoad implements Load {
    private final EntityRef<PekkoCounter.Command>[] entities;
    private final byte[] payload;
    private final Duration timeout;
    private final AtomicInteger next = new AtomicInteger();

    @SuppressWarnings("unchecked")
    PekkoAskLoad(PekkoMember caller, int entityCount, byte[] payload, Duration timeout) {
        if (entityCount < 1) {
            throw new IllegalArgumentException("entityCount must be >= 1, was " + entityCount);
        }
        entities = new EntityRef[entityCount];
        for (int i = 0; i < entityCount; i++) {
            entities[i] = caller.sharding().entityRefFor(PekkoCounter.KEY, entityId(i));
        }
        this.payload = payload.clone();
        this.timeout = timeout;
    }

    /** The id of the {@code i}th entity (the braid side uses the same strings as tokens). */
    static String entityId(int i) {
        return "entity-" + i;
    }

    @Override
    public void start(Done done) {
        int entity = Math.floorMod(next.getAndIncrement(), entities.length);
        entities[entity].<PekkoCounter.Value>ask(replyTo -> new PekkoCounter.Increment(payload, replyTo), timeout)
                .whenComplete((value, error) -> done.done(error));
    }

    /** One increment of entity {@code i}, within this load's timeout. */
    CompletionStage<PekkoCounter.Value> increment(int i) {
        return increment(i, timeout);
    }

    /** One increment of entity {@code i}, within {@code within} (priming a cold cluster may take longer). */
    CompletionStage<PekkoCounter.Value> increment(int i, Duration within) {
        return entities[i].ask(replyTo -> new PekkoCounter.Increment(payload, replyTo), within);
    }

    int entityCount() {
        return entities.length;
    }
}
