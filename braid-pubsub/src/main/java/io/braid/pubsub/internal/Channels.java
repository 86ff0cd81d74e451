package io.braid.pubsub.internal;

import io.braid.api.Channel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** How a pubsub closes its channels: all at once, so closing N takes about as long as closing one. */
final class Channels {
    private Channels() {
    }

    /**
     * Closes every channel of {@code channels} (a snapshot taken now), each on a virtual thread of
     * its own, and returns once all have closed. A channel's close waits for its running handlers,
     * so sequential closing would add those waits up.
     */
    static void closeTogether(Collection<? extends Channel> channels) {
        List<Thread> closing = new ArrayList<>();
        for (Channel channel : List.copyOf(channels)) {
            closing.add(Thread.ofVirtual().name("braid-channel-close").start(channel::close));
        }
        boolean interrupted = false;
        for (Thread thread : closing) {
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the channels close anyway; the caller learns of the interrupt after
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
