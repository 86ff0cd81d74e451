package io.braid.runtime;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.PlayerStates;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A logic node with players in a child JVM, so a test can kill it with -9: each player is a
 * counter ("click" adds one and answers it), saved write-through to the store of its Redis
 * control plane. Args: redis uri, node id. Prints {@code READY} once registered. Exits when its
 * stdin closes (the test JVM is gone).
 */
public final class PlayerNodeProcess {
    static final String SERVICE = "logic";
    static final String CLICK = "click";

    private PlayerNodeProcess() {
    }

    /** The players every node of these tests runs: a counter, its snapshot the count (8 bytes). */
    static Players<long[]> counters() {
        return Players.of(new PlayerStates<long[]>() {
            @Override
            public long[] activate(String token, Activation how, byte[] snapshot) {
                return new long[] {how == Activation.FRESH ? 0 : ByteBuffer.wrap(snapshot).getLong()};
            }

            @Override
            public byte[] snapshot(long[] state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state[0]).array();
            }

            @Override
            public void deactivate(long[] state, Deactivation why) {
            }
        }).handle(CLICK, StringValue.parser(), (player, ctx, req) -> Int64Value.of(++player.state()[0]))
                .writeThrough();
    }

    public static void main(String[] args) throws IOException {
        Braid node = Braid.builder().service(SERVICE).nodeId(args[1]).ioThreads(1).redis(args[0])
                .heartbeat(Duration.ofMillis(500), Duration.ofSeconds(3)).players(counters()).start();
        System.out.println("READY");
        System.out.flush();
        while (System.in.read() >= 0) {
            // the test never writes; end of input means it is gone
        }
        node.close();
    }
}
