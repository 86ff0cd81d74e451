package io.braid.pubsub.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The virtual threads message handlers run on, the same for every backend. */
final class MessageHandlers {
    private static final Logger log = LoggerFactory.getLogger(MessageHandlers.class);
    private static final long CLOSE_WAIT_SECONDS = 10;

    private MessageHandlers() {
    }

    static ExecutorService start() {
        return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("braid-message-", 0).factory());
    }

    /**
     * Lets running handlers finish, for up to 10 s. A handler still running then keeps its
     * message unacknowledged: it stays pending and is delivered again.
     */
    static void close(ExecutorService handlers) {
        handlers.shutdown();
        try {
            if (!handlers.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.warn("message handlers still running after {} s; their messages stay pending and are redelivered",
                        CLOSE_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
