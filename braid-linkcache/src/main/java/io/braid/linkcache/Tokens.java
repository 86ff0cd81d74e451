package io.braid.linkcache;

/** What a player token may be, the same for every link cache. */
final class Tokens {
    static final int MAX_LENGTH = 512;

    private Tokens() {
    }

    static String require(String token) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("token must not be blank");
        }
        if (token.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("token must be at most " + MAX_LENGTH + " characters, was " + token.length());
        }
        return token;
    }
}
