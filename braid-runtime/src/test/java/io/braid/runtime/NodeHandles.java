package io.braid.runtime;

import io.braid.api.BraidException;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/** Helpers the runtime's fencing tests share: a node its own handlers can see, how a stream ended. */
final class NodeHandles {
    private NodeHandles() {
    }

    /** Starts {@code builder} and hands the node to {@code self}, which its handlers read. */
    static Braid startInto(AtomicReference<Braid> self, Braid.Builder builder) {
        Braid node = builder.start();
        self.set(node);
        return node;
    }

    /** The code {@code stream} ended with, waiting up to 10 s for its end. */
    static Code endOf(ClientStream<?, ?> stream) throws InterruptedException {
        try {
            stream.done().get(10, TimeUnit.SECONDS);
            return Code.OK;
        } catch (ExecutionException | CompletionException e) {
            return BraidException.from(e).code();
        } catch (TimeoutException e) {
            throw new AssertionError("the stream did not end within 10 s", e);
        }
    }
}
