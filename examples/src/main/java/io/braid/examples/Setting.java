package io.braid.examples;

import java.util.Objects;

/**
 * One setting of an entry point: a command-line flag and the environment variable that stands in
 * for it. A flag wins over the variable, the variable over the default. Each entry point declares
 * its settings in one list, which is also what {@code --help} prints and what the test that checks
 * docker-compose.yml reads.
 *
 * @param flag         the flag, with its dashes: {@code --players}
 * @param env          the environment variable: {@code BOTS_PLAYERS}
 * @param defaultValue the value when neither is given; null means "none"
 * @param help         one line for {@code --help}
 * @param isSwitch     a true/false setting whose flag alone means true ({@code --rolling-update});
 *                     {@code --flag=false} and its variable still say either
 */
public record Setting(String flag, String env, String defaultValue, String help, boolean isSwitch) {
    public Setting {
        Objects.requireNonNull(flag, "flag");
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(help, "help");
        if (!flag.startsWith("--")) {
            throw new IllegalArgumentException("a flag starts with --: " + flag);
        }
    }

    /** A setting whose flag takes a value ({@code --players 50}). */
    public Setting(String flag, String env, String defaultValue, String help) {
        this(flag, env, defaultValue, help, false);
    }

    /** A switch: false unless its flag is given (alone) or its variable says true. */
    public static Setting ofSwitch(String flag, String env, String help) {
        return new Setting(flag, env, "false", help, true);
    }
}
