package io.braid.pubsub.internal;

import io.braid.api.Pubsub;
import io.braid.api.internal.PubsubListener;
import java.util.concurrent.atomic.AtomicInteger;

/** The listener and stats contract in memory. */
class InMemoryPubsubListenerTest extends PubsubListenerContract {
    private final InMemoryStreams streams = new InMemoryStreams();
    private final AtomicInteger members = new AtomicInteger();

    @Override
    protected Pubsub member(PubsubListener listener) {
        return adopt(new InMemoryPubsub(streams, "member-" + members.incrementAndGet(), listener));
    }
}
