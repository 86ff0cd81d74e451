package io.braid.monitor;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a node names a player in what it shows outside itself: the {@code braid.player} attribute of
 * its spans (and the OpenTelemetry baggage entry of that name), and the players of its
 * {@code hotPlayers} figures. Immutable; three shapes:
 *
 * <ul>
 * <li>{@link #PLAIN} (the default): the player's token itself;</li>
 * <li>{@link #hashed(String) hashed(secret)}: a keyed hash of it, HMAC-SHA256 under the secret,
 *     its first 8 bytes as 16 lower-case hex digits. One player shows the same on every node that
 *     has the same secret, so a trace or a hot player can be followed across nodes; without the
 *     secret the token cannot be recovered nor a guess checked. {@link #show} computes it for a
 *     token you know ("where is player 42?");</li>
 * <li>{@link #OFF}: players are not named at all (no attribute, no baggage, no hot players).</li>
 * </ul>
 */
public final class TracePlayers {
    /** The token as it is. */
    public static final TracePlayers PLAIN = new TracePlayers(null, true);
    /** Players are not named. */
    public static final TracePlayers OFF = new TracePlayers(null, false);

    private static final String ALGORITHM = "HmacSHA256";
    private static final int SHOWN_BYTES = 8;

    /** A keyed {@link Mac}, cloned for each use (a Mac is not thread-safe); null unless hashed. */
    private final Mac prototype;
    private final boolean named;

    private TracePlayers(Mac prototype, boolean named) {
        this.prototype = prototype;
        this.named = named;
    }

    /**
     * Players named by a keyed hash of their token under {@code secret}: 16 to 512 characters, the
     * same on every node whose figures you want to compare.
     *
     * @throws IllegalArgumentException when the secret is null or not 16..512 characters
     */
    public static TracePlayers hashed(String secret) {
        if (secret == null || secret.length() < 16 || secret.length() > 512) {
            throw new IllegalArgumentException("tracePlayers hashed secret must be 16..512 characters, was "
                    + (secret == null ? "null" : secret.length() + " characters"));
        }
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM));
            return new TracePlayers(mac, true);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no " + ALGORITHM, e);
        }
    }

    /** Whether players are named at all (not {@link #OFF}). */
    public boolean named() {
        return named;
    }

    /** Whether players are named by a keyed hash. */
    public boolean isHashed() {
        return prototype != null;
    }

    /**
     * How {@code token} is shown: itself, its keyed hash, or null when players are {@link #OFF} or
     * the token is empty (no player). Thread-safe.
     */
    public String show(String token) {
        Objects.requireNonNull(token, "token");
        if (!named || token.isEmpty()) {
            return null;
        }
        if (prototype == null) {
            return token;
        }
        Mac mac;
        try {
            mac = (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(ALGORITHM + " cannot be cloned here", e);
        }
        byte[] digest = mac.doFinal(token.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest, 0, SHOWN_BYTES);
    }

    @Override
    public String toString() {
        return "TracePlayers{" + (!named ? "OFF" : prototype == null ? "PLAIN" : "HASHED") + "}";
    }
}
