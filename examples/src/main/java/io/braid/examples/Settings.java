package io.braid.examples;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The values of an entry point's {@link Setting}s, read from flags ({@code --players 50} or
 * {@code --players=50}; a switch alone: {@code --rolling-update}), then environment variables, then
 * defaults. An unknown flag or a value of
 * the wrong type fails at once with a message naming the flag and its variable. Immutable.
 */
public final class Settings {
    private final String command;
    private final Map<Setting, String> values;

    private Settings(String command, Map<Setting, String> values) {
        this.command = command;
        this.values = values;
    }

    /**
     * Reads {@code args} against {@code declared}; {@code env} is usually {@link System#getenv()}.
     *
     * @throws IllegalArgumentException for an unknown flag or a flag without a value
     */
    public static Settings parse(String command, List<Setting> declared, String[] args, Map<String, String> env) {
        Map<String, Setting> byFlag = new LinkedHashMap<>();
        for (Setting setting : declared) {
            if (byFlag.put(setting.flag(), setting) != null) {
                throw new IllegalStateException(command + " declares " + setting.flag() + " twice");
            }
        }
        Map<Setting, String> fromFlags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String flag = arg;
            String value = null;
            int equals = arg.indexOf('=');
            if (arg.startsWith("--") && equals > 0) {
                flag = arg.substring(0, equals);
                value = arg.substring(equals + 1);
            }
            Setting setting = byFlag.get(flag);
            if (setting == null) {
                throw new IllegalArgumentException("unknown argument '" + arg + "' for " + command + "; it takes:\n"
                        + usage(declared));
            }
            if (value == null && setting.isSwitch()) {
                value = "true"; // a switch's flag alone: on
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                value = args[++i];
            }
            fromFlags.put(setting, value);
        }
        Map<Setting, String> values = new LinkedHashMap<>();
        for (Setting setting : declared) {
            String value = fromFlags.get(setting);
            if (value == null) {
                String fromEnv = env.get(setting.env());
                value = fromEnv == null || fromEnv.isBlank() ? setting.defaultValue() : fromEnv.trim();
            }
            if (value != null) {
                values.put(setting, value);
            }
        }
        return new Settings(command, values);
    }

    /** One line per setting: flag, variable, default, help. */
    public static String usage(List<Setting> declared) {
        return declared.stream()
                .map(s -> String.format("  %-20s %-26s %s%s", s.flag(), s.env(), s.help(),
                        s.defaultValue() == null ? "" : " (default " + s.defaultValue() + ")"))
                .collect(Collectors.joining("\n"));
    }

    /** Whether the setting has a value (given, or a default). */
    public boolean has(Setting setting) {
        return values.containsKey(setting);
    }

    /** The value, or null when the setting has none. */
    public String get(Setting setting) {
        return values.get(Objects.requireNonNull(setting, "setting"));
    }

    public int getInt(Setting setting, int min, int max) {
        String value = require(setting);
        try {
            int parsed = Integer.parseInt(value);
            if (parsed < min || parsed > max) {
                throw new IllegalArgumentException(describe(setting) + " must be in " + min + ".." + max + ", was " + parsed);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(describe(setting) + " must be a whole number, was '" + value + "'");
        }
    }

    /** A whole number of seconds, 0 or more. */
    public Duration getSeconds(Setting setting) {
        return Duration.ofSeconds(getInt(setting, 0, Integer.MAX_VALUE));
    }

    public boolean getBoolean(Setting setting) {
        String value = require(setting);
        return switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException(describe(setting) + " must be true or false, was '" + value + "'");
        };
    }

    private String require(Setting setting) {
        String value = get(setting);
        if (value == null) {
            throw new IllegalArgumentException(describe(setting) + " is required");
        }
        return value;
    }

    private String describe(Setting setting) {
        return command + " " + setting.flag() + " (" + setting.env() + ")";
    }
}
