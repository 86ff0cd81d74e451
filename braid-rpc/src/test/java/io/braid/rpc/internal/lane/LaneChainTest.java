package io.braid.rpc.internal.lane;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The lane chain names each lane by node and token exactly, whatever characters they hold. */
class LaneChainTest {
    @Test
    void aChainNamesExactlyTheLanesPutIntoIt() {
        String chain = LaneChain.extend(LaneChain.extend(null, "logic-1", "p1"), "logic-2", "p:2");
        assertThat(LaneChain.contains(chain, "logic-1", "p1")).isTrue();
        assertThat(LaneChain.contains(chain, "logic-2", "p:2")).isTrue();
        assertThat(LaneChain.contains(chain, "logic-2", "p1")).as("same token, another node").isFalse();
        assertThat(LaneChain.contains(chain, "logic-1", "p:2")).isFalse();
        assertThat(LaneChain.contains(chain, "logic-1", "p")).as("a prefix of a token").isFalse();
        assertThat(LaneChain.contains(null, "logic-1", "p1")).isFalse();
    }

    @Test
    void aTokenThatLooksLikeAnEncodedLaneIsNotMistakenForOne() {
        // The token "7:logic-12:p1" holds the encoding of (logic-1, p1): it must not match it.
        String chain = LaneChain.extend(null, "other", "7:logic-12:p1");
        assertThat(LaneChain.contains(chain, "logic-1", "p1")).isFalse();
        assertThat(LaneChain.contains(chain, "other", "7:logic-12:p1")).isTrue();
    }

    @Test
    void aMalformedChainNamesNoLane() {
        for (String garbage : new String[] {"", ":", "x:y", "99:short", "3:abc", "3:abc9", "-1:a1:b", "1234567890:a"}) {
            assertThat(LaneChain.contains(garbage, "abc", "b")).as(garbage).isFalse();
        }
    }
}
