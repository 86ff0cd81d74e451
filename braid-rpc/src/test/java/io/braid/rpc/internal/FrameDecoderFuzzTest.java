package io.braid.rpc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.rpc.internal.wire.Envelope;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Hostile bytes into the frame decoder, fed in arbitrary chunks: it yields envelopes or oversized
 * markers, or refuses with a decoder exception (the connection closes) — never anything else — and
 * it never holds more than one frame's worth of bytes.
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
                    assertThat(decoded).isInstanceOfAny(Envelope.class, OversizedFrame.class);
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
                assertThat(decoded).isInstanceOfAny(Envelope.class, OversizedFrame.class);
            }
        } catch (DecoderException refused) {
            // refused: the connection closes
        } finally {
            close(channel);
        }
    }
}
