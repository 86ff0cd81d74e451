package io.braid.runtime;

import io.braid.api.Pubsub;
import io.braid.pubsub.InMemoryPubsub;
import io.braid.pubsub.RedisPubsub;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's pub-sub chore, for whichever backend the node runs on: cut every topic below what
 * its channels still need. On Redis the same pass removes ephemeral channels of nodes that stopped
 * marking them alive (crashed or cut off for longer than their idle limit), which would otherwise
 * pin their topic forever; a topic that cannot be trimmed is skipped, never the others. Never throws.
 */
final class PubsubChores {
    private static final Logger log = LoggerFactory.getLogger(PubsubChores.class);

    private PubsubChores() {
    }

    static void trim(Pubsub pubsub) {
        try {
            long removed = switch (pubsub) {
                case RedisPubsub redis -> redis.trim();
                case InMemoryPubsub memory -> memory.trim();
                default -> 0;
            };
            if (removed > 0) {
                log.debug("trimmed {} messages no channel needs any more", removed);
            }
        } catch (RuntimeException e) {
            log.warn("trimming topics failed: {}", e.getMessage());
        }
    }
}
