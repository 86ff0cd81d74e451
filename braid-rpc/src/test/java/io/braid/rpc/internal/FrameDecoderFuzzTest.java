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
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Combinators;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Hostile bytes into the frame decoder, fed in arbitrary chunks: it yields envelopes or oversized
 * markers, or refuses with a decoder exception (the connection closes) — never anything else — and
 * it never holds more than one frame's worth of bytes. And the {@link HotFrameReader}, which reads
 * requests and responses without the generated parser, reads every frame as that parser does or
 * stands aside (null): never a different answer, never a frame the parser refuses.
 */
class FrameDecoderFuzzTest {
    private static final int MAX_FRAME = 1024;

    /** Closing hands the decoder what is left; refusing that is fine too. */
    private static void close(EmbeddedChannel channel) {
        try {
            channel.finishAndReleaseAll();
        } catch (DecoderException refused) {
            channel.releaseInbound();
        }
    }

    @Provide
    Arbitrary<List<byte[]>> chunks() {
        Arbitrary<byte[]> chunk = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(300);
        return chunk.list().ofMinSize(1).ofMaxSize(8);
    }

    @Property(tries = 3000)
    void garbageNeverBreaksTheDecoderOrLeaks(@ForAll("chunks") List<byte[]> input) {
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
                    assertThat(decoded).isInstanceOfAny(Envelope.class, InboundRequest.class, InboundResponse.class,
                            OversizedFrame.class);
                    ReferenceCountUtil.release(decoded);
                }
            }
        } finally {
            close(channel);
        }
    }

    @Provide
    Arbitrary<byte[]> framedGarbage() {
        // A plausible length prefix followed by random bytes: the hardest case for a length-based decoder.
        return Arbitraries.integers().between(0, 4 * MAX_FRAME).flatMap(length ->
                Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(Math.min(length, 600)).map(body -> {
                    byte[] frame = new byte[4 + body.length];
                    int n = length;
                    frame[0] = (byte) (n >>> 24);
                    frame[1] = (byte) (n >>> 16);
                    frame[2] = (byte) (n >>> 8);
                    frame[3] = (byte) n;
                    System.arraycopy(body, 0, frame, 4, body.length);
                    return frame;
                }));
    }

    @Property(tries = 3000)
    void framedGarbageIsAnEnvelopeAnOversizedMarkerOrARefusal(@ForAll("framedGarbage") byte[] frame) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(MAX_FRAME));
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(frame));
            Object decoded;
            while ((decoded = channel.readInbound()) != null) {
                assertThat(decoded).isInstanceOfAny(Envelope.class, InboundRequest.class, InboundResponse.class,
                            OversizedFrame.class);
            }
        } catch (DecoderException refused) {
            // refused: the connection closes
        } finally {
            close(channel);
        }
    }

    @Provide
    Arbitrary<byte[]> hotEnvelopes() {
        Arbitrary<String> text = Arbitraries.oneOf(Arbitraries.strings().ascii().ofMaxLength(12),
                Arbitraries.strings().ofMaxLength(6));
        Arbitrary<java.util.Map<String, String>> metadata = Arbitraries.maps(text, text).ofMaxSize(3);
        Arbitrary<Long> ids = Arbitraries.oneOf(Arbitraries.longs().between(0, 1000), Arbitraries.longs());
        Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
        Arbitrary<Envelope> requests = Combinators.combine(ids, text, text, Arbitraries.integers(), metadata, payload,
                        text, Arbitraries.integers())
                .as((id, method, token, timeout, meta, body, type, credit) -> Envelope.newBuilder()
                        .setRequest(Request.newBuilder().setCallId(id).setMethod(method).setToken(token)
                                .setTimeoutMs(timeout).putAllMetadata(meta).setPayload(ByteString.copyFrom(body))
                                .setContentType(type).setStream(credit % 2 == 0).setInitialCredit(credit))
                        .build());
        Arbitrary<Envelope> responses = Combinators.combine(ids, Arbitraries.integers(), text, metadata, payload)
                .as((id, code, message, meta, body) -> Envelope.newBuilder()
                        .setResponse(Response.newBuilder().setCallId(id).setCode(code).setMessage(message)
                                .putAllMetadata(meta).setPayload(ByteString.copyFrom(body)))
                        .build());
        // Each envelope as written, then with one byte changed, cut short or grown by one.
        return Combinators.combine(Arbitraries.oneOf(requests, responses), Arbitraries.integers().between(0, 3),
                        Arbitraries.integers().between(0, 10_000), Arbitraries.bytes())
                .as((envelope, damage, where, value) -> {
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
                        case 2 -> java.util.Arrays.copyOf(bytes, at);
                        case 3 -> java.util.Arrays.copyOf(bytes, bytes.length + 1);
                        default -> bytes;
                    };
                });
    }

    @Property(tries = 5000)
    void theHotReaderReadsWhatTheGeneratedParserReadsOrStandsAside(@ForAll("hotEnvelopes") byte[] envelope) {
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
        Envelope read = hot instanceof InboundRequest request ? request.toEnvelope() : ((InboundResponse) hot).toEnvelope();
        assertThat(read).isEqualTo(parsed);
    }

    @Property(tries = 500)
    void theHotReaderTakesEveryPlainAsciiRequestAndResponse(@ForAll("hotEnvelopes") byte[] envelope) throws Exception {
        Envelope parsed;
        try {
            parsed = Envelope.parseFrom(envelope);
        } catch (InvalidProtocolBufferException refused) {
            return;
        }
        if (!java.util.Arrays.equals(parsed.toByteArray(), envelope) || !ascii(parsed)) {
            return; // damaged into another valid encoding, or text the reader leaves to the parser
        }
        assertThat(new HotFrameReader().read(Unpooled.wrappedBuffer(envelope), 0, envelope.length))
                .as("a plain request or response of ASCII text").isNotNull();
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
}
