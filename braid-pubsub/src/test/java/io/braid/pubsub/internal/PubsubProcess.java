package io.braid.pubsub.internal;

import io.braid.api.ChannelOptions;
import io.braid.api.Pubsub;
import io.braid.redis.RedisConnector;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A child JVM with one consumer, so a test can kill it with SIGKILL like a crashed process.
 * Args: redis uri (several, comma-separated: a Cluster), topic, channel, concurrency, mode, and
 * optionally an idle limit in ms, which makes the channel ephemeral with that limit. Mode {@code hold}: the handler prints
 * {@code GOT <id>} and never returns (the messages stay pending with this consumer); mode
 * {@code ack}: it prints {@code H <body>} and returns (acknowledged). A line is flushed before the
 * handler returns, so every acknowledged message was reported. Prints {@code READY} once subscribed.
 */
public final class PubsubProcess {
    private PubsubProcess() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        RedisConnector redis = args[0].contains(",") ? RedisConnector.connectCluster(List.of(args[0].split(",")))
                : RedisConnector.connect(args[0]);
        RedisPubsub.Builder settings = RedisPubsub.builder(redis).consumerName("child");
        ChannelOptions options = ChannelOptions.DEFAULT.withConcurrency(Integer.parseInt(args[3]));
        if (args.length > 5) {
            settings.ephemeralIdleLimit(Duration.ofMillis(Long.parseLong(args[5])));
            options = options.withDurable(false);
        }
        Pubsub pubsub = settings.build();
        boolean hold = args[4].equals("hold");
        CountDownLatch never = new CountDownLatch(1);
        pubsub.topic(args[1]).subscribe(args[2], options)
                .onMessage(message -> {
                    synchronized (out) {
                        out.println(hold ? "GOT " + message.id() : "H " + new String(message.body(), StandardCharsets.UTF_8));
                        out.flush();
                    }
                    if (hold) {
                        never.await();
                    }
                });
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        never.await(); // until killed
    }
}
