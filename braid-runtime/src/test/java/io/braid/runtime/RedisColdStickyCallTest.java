package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.NodeState;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What Redis does for a cold sticky call (a token no near cache holds), seen through MONITOR on a
 * real redis-server: every command any node sends while the call is made, up to a marker sent
 * after its answer. A cold call is one Redis round trip from the caller (a claim for the picked
 * node that answers the owner either way) and none from the owner before it answers; the claim of
 * a new token runs six commands in Redis (read the link, the clock, the shard's epoch counter,
 * write the link, the owner's count, publish the invalidation), of a linked one one (the link's
 * field in its bucket holds owner and epoch).
 */
class RedisColdStickyCallTest {
    static final String LOGIC = "logic";
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    /** Cold calls measured; each new token goes to the next node the picker picks. */
    static final int CALLS = 12;
    /** The commands Redis runs inside the claim of a new token: HGET, TIME, SET (GET), HSET, HINCRBY, PUBLISH. */
    static final int NEW_LINK_SCRIPT_COMMANDS = 6;
    /** The commands Redis runs inside the claim of a token already linked: HGET of its link (owner and epoch). */
    static final int LINKED_SCRIPT_COMMANDS = 1;

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    @AfterEach
    void closeAll() throws Exception {
        while (!opened.isEmpty()) {
            opened.pop().close();
        }
    }

    @Test
    void aColdCallIsOneClaimOfSixCommandsAndTheOwnerSendsNothingBeforeItAnswers() throws Exception {
        redis.server().flushAll();
        for (int i = 1; i <= 3; i++) {
            open(Braid.builder().service(LOGIC).nodeId("logic-" + i).redis(redis.server().uri()).ioThreads(1)
                    .handleAsync("echo", StringValue.parser(), (ctx, request) -> CompletableFuture.completedFuture(request))
                    .start());
        }
        Braid gateway = open(Braid.builder().service("gateway").nodeId("gateway-1").redis(redis.server().uri())
                .ioThreads(1).start());
        Braid other = open(Braid.builder().service("gateway").nodeId("gateway-2").redis(redis.server().uri())
                .ioThreads(1).start());
        for (Braid caller : List.of(gateway, other)) {
            Await.until(Duration.ofSeconds(10), () -> caller.node().id() + " sees 3 ACTIVE logic nodes: "
                    + caller.discover().nodes(LOGIC), () -> caller.discover().nodes(LOGIC).stream()
                    .filter(node -> node.state() == NodeState.ACTIVE).count() == 3);
        }
        call(gateway, "warm-up"); // loads the scripts: a cold call below never meets NOSCRIPT

        try (Monitor monitor = Monitor.start(redis.server().host(), redis.server().port());
             RedisProbe probe = redis.server().probe()) {
            for (int i = 0; i < CALLS; i++) {
                // A token no near cache holds and Redis has no link of: 'z' ends it, so no token's
                // name is a prefix of another's in MONITOR's quoted arguments.
                String token = "cold" + i + "z";
                List<String> seen = monitor.around(probe, "new-" + token, () -> call(gateway, token));
                assertRoundTrip(seen, token, NEW_LINK_SCRIPT_COMMANDS);

                // The same token from a gateway whose near cache does not hold it: one claim that
                // finds the link (its new-link invalidation updates held entries only).
                List<String> linked = monitor.around(probe, "linked-" + token, () -> call(other, token));
                assertRoundTrip(linked, token, LINKED_SCRIPT_COMMANDS);
            }
        }
    }

    /**
     * Exactly one command from a client names the token (the claim) and the script it ran made
     * {@code scriptCommands} commands: no second round trip from the caller, none from the owner.
     */
    private static void assertRoundTrip(List<String> seen, String token, int scriptCommands) {
        String quoted = "\"" + token + "\"";
        String fieldStart = "\"" + token + "\\x00";
        List<String> fromClients = new ArrayList<>();
        List<String> inScript = new ArrayList<>();
        boolean afterClaim = false;
        for (String line : seen) {
            boolean lua = line.contains("[0 lua]");
            if (!lua) {
                afterClaim = false;
                // The claim names the token in its link's field, token NUL service ("token\x00...").
                if (line.contains(quoted) || line.contains(":" + token + "\"") || line.contains(fieldStart)) {
                    fromClients.add(line);
                    afterClaim = true;
                }
            } else if (afterClaim) {
                inScript.add(line);
            }
        }
        assertThat(fromClients).as("commands naming %s from any client, while it was called cold (MONITOR: %s)",
                token, seen).hasSize(1);
        assertThat(fromClients.get(0)).as("the one round trip of %s", token).contains("\"EVALSHA\"");
        assertThat(inScript).as("commands Redis ran in the claim of %s", token).hasSize(scriptCommands);
    }

    private static String call(Braid caller, String token) {
        try {
            return caller.invoke(LOGIC, "echo", token, StringValue.of(token), StringValue.parser())
                    .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getValue();
        } catch (Exception e) {
            throw new AssertionError("call of " + token + " through " + caller.node().id() + " failed", e);
        }
    }

    private <T extends AutoCloseable> T open(T resource) {
        opened.push(resource);
        return resource;
    }

    /**
     * A MONITOR connection: every command the server runs, one line each, in the order it ran
     * them (a script's commands follow its EVALSHA, tagged {@code [0 lua]}).
     */
    static final class Monitor implements AutoCloseable {
        private final Socket socket;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final Thread reader;

        private Monitor(Socket socket) throws IOException {
            this.socket = socket;
            OutputStream out = socket.getOutputStream();
            out.write("MONITOR\r\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String ok = in.readLine();
            if (!"+OK".equals(ok)) {
                throw new IllegalStateException("MONITOR answered " + ok);
            }
            reader = Thread.ofPlatform().daemon().name("monitor-reader").start(() -> {
                try {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // closed
                }
            });
        }

        static Monitor start(String host, int port) {
            try {
                return new Monitor(new Socket(host, port));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * The lines of every command run from a start marker to an end marker, sent (ECHO, through
         * {@code probe}) before and after {@code work}: all that any client sent while the work
         * was under way, including what a node sent before answering.
         */
        List<String> around(RedisProbe probe, String name, Runnable work) {
            String start = "start-" + name;
            String end = "end-" + name;
            probe.command("ECHO", start);
            work.run();
            probe.command("ECHO", end);
            Await.until(Duration.ofSeconds(10), () -> "MONITOR shows " + end, () -> indexOf(end) >= 0);
            List<String> all = List.copyOf(lines);
            return all.subList(indexOf(all, start) + 1, indexOf(all, end));
        }

        private int indexOf(String marker) {
            return indexOf(List.copyOf(lines), marker);
        }

        private static int indexOf(List<String> all, String marker) {
            String echo = "\"ECHO\" \"" + marker + "\"";
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).endsWith(echo)) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public void close() throws Exception {
            socket.close();
            reader.join(5_000);
        }
    }
}
