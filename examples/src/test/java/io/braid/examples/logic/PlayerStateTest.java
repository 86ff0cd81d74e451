package io.braid.examples.logic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A player's snapshot: what the next owner restores is what the last one had. */
class PlayerStateTest {
    private static PlayerState ann() {
        PlayerState state = new PlayerState();
        state.name = "Änn";
        state.counter = 41;
        state.gold = 1L << 40;
        state.loggedIn = true;
        state.rewardPromised = true;
        state.rewardOwed = true;
        return state;
    }

    @Test
    void aSnapshotRestoresEveryFieldButTheTimer() {
        PlayerState restored = PlayerState.restore(ann().snapshot());

        assertThat(restored.name).isEqualTo("Änn");
        assertThat(restored.counter).isEqualTo(41);
        assertThat(restored.gold).isEqualTo(1L << 40);
        assertThat(restored.loggedIn).isTrue();
        assertThat(restored.rewardPromised).isTrue();
        assertThat(restored.rewardOwed).isTrue();
        assertThat(restored.reward).isNull();
        assertThat(PlayerState.restore(new PlayerState().snapshot()).snapshot()).isEqualTo(new PlayerState().snapshot());
    }

    @Test
    void bytesThatAreNoSnapshotAreRefusedWithTheReason() {
        byte[] good = ann().snapshot();
        byte[] otherVersion = good.clone();
        otherVersion[0] = 9;

        assertThatThrownBy(() -> PlayerState.restore(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("null");
        assertThatThrownBy(() -> PlayerState.restore(otherVersion)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("version 9");
        assertThatThrownBy(() -> PlayerState.restore(Arrays.copyOf(good, 10))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cut short");
        assertThatThrownBy(() -> PlayerState.restore(Arrays.copyOf(good, good.length - 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name");
        assertThatThrownBy(() -> PlayerState.restore(Arrays.copyOf(good, good.length + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name");
    }
}
