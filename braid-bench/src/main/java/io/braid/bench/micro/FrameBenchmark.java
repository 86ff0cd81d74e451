package io.braid.bench.micro;

import com.google.protobuf.ByteString;
import io.braid.rpc.internal.FrameDecoder;
import io.braid.rpc.internal.FrameEncoder;
import io.braid.rpc.internal.OutboundFrame;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A call's request frame written and read the way braid-rpc does it. {@code encode} is the client's
 * hot path: the call's request written field by field as its envelope ({@link OutboundFrame}) into a
 * pooled buffer; {@code encodeEnvelope} is the path of every other message (a generated
 * {@link Envelope} built and written); {@code decode} reads a request frame as the server's
 * {@link FrameDecoder} does ({@link FrameDecoder#read}: without protobuf's builders), and
 * {@code decodeEnvelope} is protobuf's generated parse of it ({@link FrameDecoder#parse}, what
 * {@code decode} was before issue 18). Payload 64 B or 1 KiB.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FrameBenchmark {
    @Param({"64", "1024"})
    public int payloadBytes;

    private final FrameDecoder decoder = new FrameDecoder(4 << 20);

    /**
     * Netty's default pool, with a thread cache for this thread as an event loop thread has one
     * (without it every allocate-and-release round trip goes to the shared arena, and can free and
     * remake a whole chunk).
     */
    private final ByteBufAllocator alloc = new PooledByteBufAllocator(true, PooledByteBufAllocator.defaultNumHeapArena(),
            PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(),
            PooledByteBufAllocator.defaultMaxOrder(), PooledByteBufAllocator.defaultSmallCacheSize(),
            PooledByteBufAllocator.defaultNormalCacheSize(), true);
    private Request.Builder request;
    private ByteString payload;
    private ByteBuf frame;
    private long callId;

    @Setup
    public void setUp() throws IOException {
        payload = ByteString.copyFrom(new byte[payloadBytes]);
        request = Request.newBuilder().setMethod("echo").setPayload(payload);
        Envelope envelope = envelope();
        frame = FrameEncoder.encode(alloc, envelope, envelope.getSerializedSize());
    }

    @TearDown
    public void tearDown() {
        frame.release();
    }

    private Envelope envelope() {
        return Envelope.newBuilder().setRequest(request.setCallId(++callId).setTimeoutMs(10_000)).build();
    }

    /** A call's request as the client writes it, into a pooled buffer, which is then released. */
    @Benchmark
    public int encode() throws IOException {
        OutboundFrame request = OutboundFrame.request(++callId, "echo", "", 10_000, Map.of(), null, payload, "");
        ByteBuf out = FrameEncoder.encode(alloc, request);
        int written = out.readableBytes();
        out.release();
        return written;
    }

    /** A generated envelope built and written into a pooled buffer, which is then released. */
    @Benchmark
    public int encodeEnvelope() throws IOException {
        Envelope envelope = envelope();
        ByteBuf out = FrameEncoder.encode(alloc, envelope, envelope.getSerializedSize());
        int written = out.readableBytes();
        out.release();
        return written;
    }

    /** A request read from a frame in a pooled buffer, as the server's frame decoder reads it. */
    @Benchmark
    public Object decode() {
        return decoder.read(frame, frame.readerIndex() + 4, frame.readableBytes() - 4);
    }

    /** The same frame parsed by protobuf's generated parser into an {@link Envelope}. */
    @Benchmark
    public Envelope decodeEnvelope() {
        return FrameDecoder.parse(frame, frame.readerIndex() + 4, frame.readableBytes() - 4);
    }
}
