package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {
    static final Setting PLAYERS = new Setting("--players", "BOTS_PLAYERS", "100", "players");
    static final Setting REDIS = new Setting("--redis", "BRAID_REDIS_URI", null, "redis");
    static final List<Setting> DECLARED = List.of(PLAYERS, REDIS);

    @Test
    void aFlagWinsOverItsVariableWhichWinsOverTheDefault() {
        Map<String, String> env = Map.of("BOTS_PLAYERS", "7", "BRAID_REDIS_URI", "redis://env:6379");

        assertThat(Settings.parse("bots", DECLARED, new String[0], Map.of()).getInt(PLAYERS, 1, 1000)).isEqualTo(100);
        assertThat(Settings.parse("bots", DECLARED, new String[0], Map.of()).has(REDIS)).isFalse();
        Settings fromEnv = Settings.parse("bots", DECLARED, new String[0], env);
        assertThat(fromEnv.getInt(PLAYERS, 1, 1000)).isEqualTo(7);
        assertThat(fromEnv.get(REDIS)).isEqualTo("redis://env:6379");
        Settings fromFlags = Settings.parse("bots", DECLARED, new String[] {"--players", "9", "--redis=redis://flag:1"}, env);
        assertThat(fromFlags.getInt(PLAYERS, 1, 1000)).isEqualTo(9);
        assertThat(fromFlags.get(REDIS)).isEqualTo("redis://flag:1");
        assertThat(fromFlags.getSeconds(PLAYERS)).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    void badInputFailsWithTheFlagAndItsVariableNamed() {
        assertThatThrownBy(() -> Settings.parse("bots", DECLARED, new String[] {"--player", "3"}, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--player").hasMessageContaining("--players");
        assertThatThrownBy(() -> Settings.parse("bots", DECLARED, new String[] {"--players"}, Map.of()))
                .hasMessageContaining("needs a value");
        assertThatThrownBy(() -> Settings.parse("bots", DECLARED, new String[0], Map.of("BOTS_PLAYERS", "many"))
                .getInt(PLAYERS, 1, 1000)).hasMessageContaining("--players (BOTS_PLAYERS)").hasMessageContaining("many");
        assertThatThrownBy(() -> Settings.parse("bots", DECLARED, new String[] {"--players", "0"}, Map.of())
                .getInt(PLAYERS, 1, 1000)).hasMessageContaining("1..1000");
    }

    @Test
    void aSwitchTakesNoValueAndStillReadsItsVariableAndAnExplicitValue() {
        Setting rolling = Setting.ofSwitch("--rolling", "DEMO_ROLLING", "drain and replace");
        List<Setting> declared = List.of(PLAYERS, rolling);

        Settings bare = Settings.parse("demo", declared, new String[] {"--rolling", "--players", "3"}, Map.of());
        assertThat(bare.getBoolean(rolling)).isTrue();
        assertThat(bare.getInt(PLAYERS, 1, 10)).isEqualTo(3);
        assertThat(Settings.parse("demo", declared, new String[0], Map.of()).getBoolean(rolling)).isFalse();
        assertThat(Settings.parse("demo", declared, new String[0], Map.of("DEMO_ROLLING", "true"))
                .getBoolean(rolling)).isTrue();
        assertThat(Settings.parse("demo", declared, new String[] {"--rolling=false"}, Map.of("DEMO_ROLLING", "true"))
                .getBoolean(rolling)).isFalse();
        assertThat(Settings.usage(declared)).contains("--rolling").contains("DEMO_ROLLING");
    }

    @Test
    void everyCommandDeclaresEachFlagAndVariableOnce() {
        for (Main.Command command : Main.COMMANDS) {
            assertThat(command.settings()).extracting(Setting::flag).as(command.name()).doesNotHaveDuplicates();
            assertThat(command.settings()).extracting(Setting::env).as(command.name()).doesNotHaveDuplicates();
        }
    }
}
