package io.braid.rpc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * Hostile bytes into the frame decoder, fed in arbitrary chunks: it yields envelopes or oversized
 * markers, or refuses with a decoder exception (the connection closes) — never anything else — and
 * it never holds more than one frame's worth of bytes. And the {@link HotFrameReader}, which reads
 * requests and responses without the generated parser, reads every frame as that parser does or
 * stands aside (null): never a different answer, never a frame the parser refuses.
 *
 * <p>Each test draws its inputs from its own fixed seed, so every run tries the same inputs; a
 * failure names the seed of the input that failed and the input itself, and
 * {@code new SplittableRandom(seed)} handed to the test's generator makes that input again.
 */
class FrameDecoderFuzzTest {
    private static final int MAX_FRAME = 1024;
    private static final byte[] EDGE_BYTES = {0, 1, -1, Byte.MAX_VALUE, Byte.MIN_VALUE};
    private static final int[] EDGE_INTS = {0, 1, -1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1,
            Integer.MIN_VALUE + 1};
    private static final long[] EDGE_LONGS = {0, 1, -1, 2, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE,
            Integer.MIN_VALUE, 1L << 32};
    private static final char[] EDGE_CHARS = {0, ' ', 0x7F, 0xFF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFFFD};

    /** Closing hands the decoder what is left; refusing that is fine too. */
    private static void close(EmbeddedChannel channel) {
        try {
            channel.finishAndReleaseAll();
        } catch (DecoderException refused) {
            channel.releaseInbound();
        }
    }

    /** One to eight chunks of 0 to 300 random bytes each. */
    static List<byte[]> chunks(SplittableRandom random) {
        int count = size(random, 1, 8);
        List<byte[]> chunks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            chunks.add(bytes(random, 0, 300));
        }
        return chunks;
    }

    @Test
    void garbageNeverBreaksTheDecoderOrLeaks() {
        forEachInput(0x6A09E667F3BCC908L, 3000, FrameDecoderFuzzTest::chunks, FrameDecoderFuzzTest::showChunks,
                input -> {
                    EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(MAX_FRAME));
                    try {
                        for (byte[] bytes : input) {
                            try {
                                channel.writeInbound(Unpooled.wrappedBuffer(bytes));
                            } catch (DecoderException refused) {
                                return; // the connection handler closes the connection on this
                            }
                            Object decoded;
                            while ((decoded = channel.readInbound()) != null) {
                                assertThat(decoded).isInstanceOfAny(Envelope.class, InboundRequest.class,
                                        InboundResponse.class, OversizedFrame.class);
                                ReferenceCountUtil.release(decoded);
                            }
                        }
                    } finally {
                        close(channel);
                    }
                });
    }

    /**
     * A plausible length prefix (0 to four maximum frames) followed by random bytes, at most as many
     * as it announces and at most 600: the hardest case for a length-based decoder.
     */
    static byte[] framedGarbage(SplittableRandom random) {
        int length = random.nextInt(8) == 0
                ? pick(random, new int[] {MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1})
                : size(random, 0, 4 * MAX_FRAME);
        byte[] body = bytes(random, 0, Math.min(length, 600));
        byte[] frame = new byte[4 + body.length];
        frame[0] = (byte) (length >>> 24);
        frame[1] = (byte) (length >>> 16);
        frame[2] = (byte) (length >>> 8);
        frame[3] = (byte) length;
        System.arraycopy(body, 0, frame, 4, body.length);
        return frame;
    }

    @Test
    void framedGarbageIsAnEnvelopeAnOversizedMarkerOrARefusal() {
        forEachInput(0xBB67AE8584CAA73BL, 3000, FrameDecoderFuzzTest::framedGarbage, FrameDecoderFuzzTest::show,
                frame -> {
                    EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(MAX_FRAME));
                    try {
                        channel.writeInbound(Unpooled.wrappedBuffer(frame));
                        Object decoded;
                        while ((decoded = channel.readInbound()) != null) {
                            assertThat(decoded).isInstanceOfAny(Envelope.class, InboundRequest.class,
                                    InboundResponse.class, OversizedFrame.class);
                        }
                    } catch (DecoderException refused) {
                        // refused: the connection closes
                    } finally {
                        close(channel);
                    }
                });
    }

    /**
     * A random request or response envelope (ids small or anywhere in the long range, any int for
     * timeout, credit and code, up to three metadata entries, up to 40 payload bytes, text either
     * ASCII up to 12 characters or any UTF-16 up to 6), as written, or with one byte changed, cut short
     * or grown by one.
     */
    static byte[] hotEnvelope(SplittableRandom random) {
        Envelope envelope;
        if (random.nextBoolean()) {
            int credit = anyInt(random);
            envelope = Envelope.newBuilder()
                    .setRequest(Request.newBuilder().setCallId(id(random)).setMethod(text(random))
                            .setToken(text(random)).setTimeoutMs(anyInt(random)).putAllMetadata(metadata(random))
                            .setPayload(ByteString.copyFrom(bytes(random, 0, 40))).setContentType(text(random))
                            .setStream(credit % 2 == 0).setInitialCredit(credit))
                    .build();
        } else {
            envelope = Envelope.newBuilder()
                    .setResponse(Response.newBuilder().setCallId(id(random)).setCode(anyInt(random))
                            .setMessage(text(random)).putAllMetadata(metadata(random))
                            .setPayload(ByteString.copyFrom(bytes(random, 0, 40))))
                    .build();
        }
        int damage = random.nextInt(4);
        int where = size(random, 0, 10_000);
        byte value = anyByte(random);
        byte[] bytes = envelope.toByteArray();
        if (bytes.length == 0) {
            return bytes;
        }
        int at = where % bytes.length;
        return switch (damage) {
            case 1 -> {
                bytes[at] = value;
                yield bytes;
            }
            case 2 -> Arrays.copyOf(bytes, at);
            case 3 -> Arrays.copyOf(bytes, bytes.length + 1);
            default -> bytes;
        };
    }

    @Test
    void theHotReaderReadsWhatTheGeneratedParserReadsOrStandsAside() {
        forEachInput(0x3C6EF372FE94F82BL, 5000, FrameDecoderFuzzTest::hotEnvelope, FrameDecoderFuzzTest::show,
                envelope -> {
                    Object hot = new HotFrameReader().read(Unpooled.wrappedBuffer(envelope), 0, envelope.length);
                    if (hot == null) {
                        return; // the generated parser takes the frame
                    }
                    Envelope parsed;
                    try {
                        parsed = Envelope.parseFrom(envelope);
                    } catch (InvalidProtocolBufferException e) {
                        throw new AssertionError("the hot reader took a frame the generated parser refuses", e);
                    }
                    Envelope read = hot instanceof InboundRequest request ? request.toEnvelope()
                            : ((InboundResponse) hot).toEnvelope();
                    assertThat(read).isEqualTo(parsed);
                });
    }

    @Test
    void theHotReaderTakesEveryPlainAsciiRequestAndResponse() {
        forEachInput(0xA54FF53A5F1D36F1L, 500, FrameDecoderFuzzTest::hotEnvelope, FrameDecoderFuzzTest::show,
                envelope -> {
                    Envelope parsed;
                    try {
                        parsed = Envelope.parseFrom(envelope);
                    } catch (InvalidProtocolBufferException refused) {
                        return;
                    }
                    if (!Arrays.equals(parsed.toByteArray(), envelope) || !ascii(parsed)) {
                        return; // damaged into another valid encoding, or text the reader leaves to the parser
                    }
                    assertThat(new HotFrameReader().read(Unpooled.wrappedBuffer(envelope), 0, envelope.length))
                            .as("a plain request or response of ASCII text").isNotNull();
                });
    }

    /** A request or response with no unknown field and only ASCII text: what the hot reader takes. */
    private static boolean ascii(Envelope envelope) {
        java.util.List<String> texts = new java.util.ArrayList<>();
        if (!envelope.getUnknownFields().asMap().isEmpty()) {
            return false; // a field the reader does not know: the parser keeps it aside
        }
        if (envelope.hasRequest()) {
            Request r = envelope.getRequest();
            if (!r.getUnknownFields().asMap().isEmpty()) {
                return false;
            }
            texts.addAll(java.util.List.of(r.getMethod(), r.getToken(), r.getContentType()));
            r.getMetadataMap().forEach((k, v) -> texts.addAll(java.util.List.of(k, v)));
        } else if (envelope.hasResponse()) {
            Response r = envelope.getResponse();
            if (!r.getUnknownFields().asMap().isEmpty()) {
                return false;
            }
            texts.add(r.getMessage());
            r.getMetadataMap().forEach((k, v) -> texts.addAll(java.util.List.of(k, v)));
        } else {
            return false;
        }
        return texts.stream().allMatch(t -> t.chars().allMatch(c -> c < 0x80));
    }

    /**
     * Checks {@code property} on {@code tries} inputs, the n-th made by {@code generator} from
     * {@code new SplittableRandom(seed + n)}; a failure names that seed and the input.
     */
    private static <T> void forEachInput(long seed, int tries, Function<SplittableRandom, T> generator,
                                         Function<T, String> show, ThrowingConsumer<T> property) {
        for (int n = 0; n < tries; n++) {
            long inputSeed = seed + n;
            T input = generator.apply(new SplittableRandom(inputSeed));
            try {
                property.accept(input);
            } catch (Throwable failure) {
                throw new AssertionError("input " + (n + 1) + " of " + tries + " failed (the test's generator"
                        + " makes it again from new SplittableRandom(" + inputSeed + "L)): " + show.apply(input),
                        failure);
            }
        }
    }

    private static String show(byte[] bytes) {
        return bytes.length + " bytes " + HexFormat.of().formatHex(bytes);
    }

    private static String showChunks(List<byte[]> chunks) {
        return chunks.stream().map(FrameDecoderFuzzTest::show).toList().toString();
    }

    /**
     * A size in [min, max]: one time in eight an edge (min, min + 1, max), half the time a small one
     * (up to 16 above min), else anywhere in the range.
     */
    private static int size(SplittableRandom random, int min, int max) {
        int roll = random.nextInt(8);
        if (roll == 0) {
            return pick(random, new int[] {min, Math.min(min + 1, max), max});
        }
        if (roll <= 4) {
            return min + random.nextInt(Math.min(max - min, 16) + 1);
        }
        return min + random.nextInt(max - min + 1);
    }

    /** Random bytes; one array in eight is one edge byte over and over. */
    private static byte[] bytes(SplittableRandom random, int minSize, int maxSize) {
        byte[] bytes = new byte[size(random, minSize, maxSize)];
        if (random.nextInt(8) == 0) {
            Arrays.fill(bytes, EDGE_BYTES[random.nextInt(EDGE_BYTES.length)]);
            return bytes;
        }
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = anyByte(random);
        }
        return bytes;
    }

    private static byte anyByte(SplittableRandom random) {
        return random.nextInt(8) == 0 ? EDGE_BYTES[random.nextInt(EDGE_BYTES.length)] : (byte) random.nextInt();
    }

    /** Any int: an edge (0, ±1, the extremes) one time in five, a small one, or anything. */
    private static int anyInt(SplittableRandom random) {
        return switch (random.nextInt(5)) {
            case 0 -> pick(random, EDGE_INTS);
            case 1 -> random.nextInt(-1000, 1001);
            default -> random.nextInt();
        };
    }

    /** A call id: half the time in [0, 1000], else any long, its edges included. */
    private static long id(SplittableRandom random) {
        if (random.nextBoolean()) {
            return random.nextInt(8) == 0 ? pick(random, new int[] {0, 1, 1000}) : random.nextLong(0, 1001);
        }
        return random.nextInt(5) == 0 ? EDGE_LONGS[random.nextInt(EDGE_LONGS.length)] : random.nextLong();
    }

    /** Up to three entries (fewer when keys repeat). */
    private static Map<String, String> metadata(SplittableRandom random) {
        Map<String, String> metadata = new LinkedHashMap<>();
        int entries = size(random, 0, 3);
        for (int i = 0; i < entries; i++) {
            metadata.put(text(random), text(random));
        }
        return metadata;
    }

    /** Half the time ASCII (0 to 0x7F) up to 12 characters, else any UTF-16 up to 6 characters. */
    private static String text(SplittableRandom random) {
        boolean ascii = random.nextBoolean();
        int length = size(random, 0, ascii ? 12 : 6);
        boolean repeated = random.nextInt(10) == 0;
        StringBuilder text = new StringBuilder(length);
        char first = ascii ? (char) random.nextInt(0x80) : anyChar(random);
        for (int i = 0; i < length; i++) {
            text.append(repeated || i == 0 ? first : ascii ? (char) random.nextInt(0x80) : anyChar(random));
        }
        return text.toString();
    }

    /**
     * Any UTF-16 unit but private-use ones and noncharacters: an edge one time in eight (NUL,
     * space, DEL, the last Latin-1, a lone high or low surrogate, the replacement character),
     * otherwise ASCII, Latin-1 or the whole BMP (surrogates included, so pairs and lone halves).
     */
    private static char anyChar(SplittableRandom random) {
        return switch (random.nextInt(8)) {
            case 0 -> EDGE_CHARS[random.nextInt(EDGE_CHARS.length)];
            case 1, 2 -> (char) random.nextInt(0x80);
            case 3 -> (char) random.nextInt(0x80, 0x100);
            default -> {
                char c;
                do {
                    c = (char) random.nextInt(0x10000);
                } while ((c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFDD0 && c <= 0xFDEF) || c >= 0xFFFE);
                yield c;
            }
        };
    }

    private static int pick(SplittableRandom random, int[] values) {
        return values[random.nextInt(values.length)];
    }
}
