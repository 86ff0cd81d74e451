package io.braid.testkit;

/** Reads {@code name:value} lines, the format of {@code INFO} and {@code CLUSTER INFO} replies. */
final class InfoFields {
    private InfoFields() {
    }

    /** The value of field {@code name} in {@code text}, or null when there is no such line. */
    static String get(String text, String name) {
        String prefix = name + ":";
        for (String line : text.split("\r?\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return null;
    }
}
