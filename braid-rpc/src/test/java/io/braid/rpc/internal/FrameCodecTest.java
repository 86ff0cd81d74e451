package io.braid.rpc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.internal.wire.Cancel;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.GoAway;
import io.braid.rpc.internal.wire.Ping;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link FrameEncoder} and {@link FrameDecoder} driven through {@link EmbeddedChannel}s: what goes
 * in as bytes, what comes out as envelopes, and what a broken or oversized frame does to the
 * connection. Every buffer read from a channel is released here; buffers written inbound belong to
 * the decoder.
 */
class FrameCodecTest {
    private static final int LIMIT = 1024;

    private final EmbeddedChannel encoder = new EmbeddedChannel(new FrameEncoder(LIMIT));
    private final AtomicReference<Throwable> decodeFailure = new AtomicReference<>();
    /** Like the real connection handlers: the first decoder failure closes the connection. */
    private final EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(LIMIT), new ChannelInboundHandlerAdapter() {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (decodeFailure.compareAndSet(null, cause)) {
                ctx.close();
            }
        }
    });

    @AfterEach
    void releaseEverything() {
        assertThat(encoder.finishAndReleaseAll()).as("encoder output nobody read").isFalse();
        assertThat(decoder.finishAndReleaseAll()).as("decoder output nobody read").isFalse();
    }

    static Stream<Envelope> everyKind() {
        return Stream.of(
                Envelope.newBuilder().setRequest(Request.newBuilder().setCallId(7).setMethod("inventory.get")
                        .setToken("player-7").setTimeoutMs(2500).putMetadata("zone", "eu")
                        .setPayload(ByteString.copyFromUtf8("sword"))).build(),
                Envelope.newBuilder().setResponse(Response.newBuilder().setCallId(7).setCode(Code.NOT_FOUND.value())
                        .setMessage("no such item").putMetadata("k", "v")
                        .setPayload(ByteString.copyFromUtf8("nothing"))).build(),
                Envelope.newBuilder().setPing(Ping.newBuilder().setData(99).setAck(true)).build(),
                Envelope.newBuilder().setGoAway(GoAway.newBuilder().setLastCallId(41).setReason("draining")).build(),
                Envelope.newBuilder().setCancel(Cancel.newBuilder().setCallId(Long.MAX_VALUE)).build());
    }

    @ParameterizedTest
    @MethodSource("everyKind")
    void everyKindOfEnvelopeSurvivesEncodeThenDecode(Envelope envelope) {
        ByteBuf frame = encode(envelope);
        int size = envelope.getSerializedSize();
        assertThat(frame.readableBytes()).isEqualTo(FrameDecoder.HEADER_BYTES + size);
        assertThat(frame.capacity()).as("one exactly sized buffer").isEqualTo(frame.readableBytes());
        assertThat(frame.getInt(frame.readerIndex())).as("length prefix").isEqualTo(size);

        assertThat(decoder.writeInbound(frame)).isTrue();

        assertThat(decoded()).containsExactly(envelope);
        assertThat(decodeFailure).hasNullValue();
    }

    @Test
    void frameFedOneByteAtATimeDecodesOnceWhenItsLastByteArrives() {
        Envelope envelope = request(3, 200);
        byte[] frame = frameOf(envelope);

        for (int i = 0; i < frame.length - 1; i++) {
            decoder.writeInbound(Unpooled.wrappedBuffer(new byte[] {frame[i]}));
            assertThat((Object) decoder.readInbound()).as("nothing before byte %d of %d", i + 1, frame.length).isNull();
        }
        decoder.writeInbound(Unpooled.wrappedBuffer(new byte[] {frame[frame.length - 1]}));

        assertThat(decoded()).containsExactly(envelope);
    }

    @Test
    void twoFramesInOneBufferDecodeAsTwo() {
        Envelope first = request(1, 10);
        Envelope second = Envelope.newBuilder().setCancel(Cancel.newBuilder().setCallId(1)).build();

        decoder.writeInbound(Unpooled.wrappedBuffer(concat(frameOf(first), frameOf(second))));

        assertThat(decoded()).containsExactly(first, second);
    }

    @Test
    void frameOfExactlyTheLimitDecodesAndOneByteMoreIsOversized() {
        Envelope atLimit = requestOfSize(5, LIMIT);
        Envelope overLimit = requestOfSize(6, LIMIT + 1);

        decoder.writeInbound(Unpooled.wrappedBuffer(concat(frameOf(atLimit), frameOf(overLimit))));

        assertThat(decoded()).containsExactly(atLimit, new OversizedFrame(true, 6, LIMIT + 1));
    }

    @Test
    void oversizedRequestYieldsItsCallIdAndTheNextFrameStillDecodes() {
        Envelope big = request(42, 10 * LIMIT);
        Envelope next = request(43, 5);

        decoder.writeInbound(Unpooled.wrappedBuffer(concat(frameOf(big), frameOf(next))));

        assertThat(decoded()).containsExactly(new OversizedFrame(true, 42, big.getSerializedSize()), next);
        assertThat(decoder.isOpen()).isTrue();
        assertThat(decodeFailure).hasNullValue();
    }

    @Test
    void oversizedResponseArrivingInChunksIsSkippedAsItArrives() {
        Envelope big = Envelope.newBuilder().setResponse(Response.newBuilder().setCallId(300)
                .setPayload(ByteString.copyFrom(new byte[5 * LIMIT]))).build();
        Envelope next = Envelope.newBuilder().setPing(Ping.newBuilder().setData(1)).build();
        byte[] bytes = concat(frameOf(big), frameOf(next));

        // The header and a few body bytes: too few to read the call id yet.
        decoder.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, 0, FrameDecoder.HEADER_BYTES + 3)));
        assertThat((Object) decoder.readInbound()).isNull();
        // The rest in chunks of 700 bytes; the last chunk ends the skipped body and carries the next frame.
        List<Object> out = new ArrayList<>();
        for (int from = FrameDecoder.HEADER_BYTES + 3; from < bytes.length; from += 700) {
            decoder.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + 700))));
            out.addAll(decoded());
        }

        assertThat(out).containsExactly(new OversizedFrame(false, 300, big.getSerializedSize()), next);
        assertThat(decodeFailure).hasNullValue();
    }

    @Test
    void oversizedFrameThatIsNotACallIsCorrupt() {
        // A Ping is no call: there is nobody to answer, so the connection goes.
        Envelope ping = Envelope.newBuilder().setPing(Ping.newBuilder().setData(1)).build();
        byte[] body = ping.toByteArray();
        ByteBuf frame = Unpooled.buffer().writeInt(LIMIT + 1).writeBytes(body).writeZero(LIMIT + 1 - body.length);

        decoder.writeInbound(frame);

        assertCorrupt("is not a call");
    }

    @Test
    void oversizedTextIsCorrupt() {
        // "GET " read as a length is far over the limit, and "/ HTTP/1.1..." is no envelope.
        decoder.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: braid\r\n\r\n", StandardCharsets.US_ASCII));

        assertCorrupt("is not a call");
    }

    @Test
    void oversizedRequestWhoseEnvelopeLengthDisagreesIsCorrupt() {
        // The frame says LIMIT + 100 bytes, the Request inside claims fewer.
        byte[] body = request(9, LIMIT + 10).toByteArray();
        ByteBuf frame = Unpooled.buffer().writeInt(LIMIT + 100).writeBytes(body).writeZero(100 - 10);

        decoder.writeInbound(frame);

        assertCorrupt("bad envelope");
    }

    @Test
    void oversizedRequestWithoutACallIdIsCorrupt() {
        // Call id 0 is not written by proto3, so the first field is the method: nothing to answer.
        Envelope noId = Envelope.newBuilder().setRequest(Request.newBuilder().setMethod("m")
                .setPayload(ByteString.copyFrom(new byte[2 * LIMIT]))).build();

        decoder.writeInbound(Unpooled.wrappedBuffer(frameOf(noId)));

        assertCorrupt("no call id");
    }

    @Test
    void negativeLengthIsCorrupt() {
        decoder.writeInbound(Unpooled.buffer().writeInt(-1).writeBytes(new byte[] {1, 2, 3}));

        assertCorrupt("negative frame length");
    }

    @Test
    void emptyEnvelopeIsCorrupt() {
        decoder.writeInbound(Unpooled.buffer().writeInt(0));

        assertCorrupt("carries no known message");
    }

    @Test
    void bodyThatDoesNotParseIsCorrupt() {
        // Field 1 (request) as a length-delimited field that claims 16 bytes but has 3.
        decoder.writeInbound(Unpooled.buffer().writeInt(5).writeBytes(new byte[] {0x0a, 0x10, 1, 2, 3}));

        assertCorrupt("undecodable frame of 5 bytes");
    }

    @Test
    void encoderRefusesAnEnvelopeOverItsLimitAndWritesNothing() {
        Envelope tooBig = requestOfSize(8, LIMIT + 1);

        ChannelFuture write = encoder.writeOneOutbound(tooBig);
        encoder.flushOutbound();

        assertThat(write.isDone()).isTrue();
        assertThat(write.cause()).isInstanceOf(BraidException.class);
        assertThat(((BraidException) write.cause()).code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(write.cause()).hasMessageContaining("maxFrameBytes");
        assertThat(encoder.outboundMessages()).isEmpty();

        // The encoder is not broken by the refusal: an envelope of exactly the limit goes out.
        Envelope atLimit = requestOfSize(9, LIMIT);
        ByteBuf frame = encode(atLimit);
        assertThat(frame.readableBytes()).isEqualTo(FrameDecoder.HEADER_BYTES + LIMIT);
        ReferenceCountUtil.release(frame);
    }

    @Test
    void encoderPassesWhatIsNotAnEnvelopeOnUntouched() {
        ByteBuf raw = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});

        assertThat(encoder.writeOutbound(raw)).isTrue();

        ByteBuf out = encoder.readOutbound();
        try {
            assertThat(out).isSameAs(raw);
        } finally {
            ReferenceCountUtil.release(out);
        }
    }

    // --- helpers ------------------------------------------------------------------------------

    private ByteBuf encode(Envelope envelope) {
        assertThat(encoder.writeOutbound(envelope)).isTrue();
        ByteBuf frame = encoder.readOutbound();
        assertThat((Object) encoder.readOutbound()).as("one buffer per envelope").isNull();
        return frame;
    }

    /** Everything the decoder has handed on so far. */
    private List<Object> decoded() {
        List<Object> out = new ArrayList<>();
        Object message;
        while ((message = decoder.readInbound()) != null) {
            // Requests and responses reach the connection handlers read without the generated parser.
            out.add(message instanceof InboundRequest request ? request.toEnvelope()
                    : message instanceof InboundResponse response ? response.toEnvelope() : message);
            ReferenceCountUtil.release(message); // envelopes are not reference counted; a stray buffer would be
        }
        return out;
    }

    /** The decoder raised CorruptedFrameException (perhaps wrapped), handed nothing on, and the connection closed. */
    private void assertCorrupt(String reason) {
        Throwable failure = decodeFailure.get();
        assertThat(failure).as("decoder failure").isNotNull();
        CorruptedFrameException corrupt = Stream.iterate(failure, t -> t != null, Throwable::getCause)
                .filter(CorruptedFrameException.class::isInstance).map(CorruptedFrameException.class::cast)
                .findFirst().orElseThrow(() -> new AssertionError("no CorruptedFrameException in the cause chain", failure));
        assertThat(corrupt).hasMessageContaining(reason);
        assertThat(decoded()).isEmpty();
        assertThat(decoder.isOpen()).isFalse();
    }

    private static Envelope request(long callId, int payloadBytes) {
        return Envelope.newBuilder().setRequest(Request.newBuilder().setCallId(callId).setMethod("echo")
                .setPayload(ByteString.copyFrom(new byte[payloadBytes]))).build();
    }

    /** A Request envelope of exactly {@code size} serialized bytes (method "" or "m" absorbs varint steps). */
    private static Envelope requestOfSize(long callId, int size) {
        for (int payload = 0; payload < size; payload++) {
            for (String method : new String[] {"", "m"}) {
                Envelope envelope = Envelope.newBuilder().setRequest(Request.newBuilder().setCallId(callId)
                        .setMethod(method).setPayload(ByteString.copyFrom(new byte[payload]))).build();
                if (envelope.getSerializedSize() == size) {
                    return envelope;
                }
            }
        }
        throw new IllegalArgumentException("no request envelope of exactly " + size + " bytes");
    }

    private static byte[] frameOf(Envelope envelope) {
        byte[] body = envelope.toByteArray();
        return ByteBuffer.allocate(FrameDecoder.HEADER_BYTES + body.length).putInt(body.length).put(body).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
