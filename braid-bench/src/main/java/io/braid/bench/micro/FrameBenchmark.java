package io.braid.bench.micro;

import com.google.protobuf.ByteString;
import io.braid.rpc.internal.FrameDecoder;
import io.braid.rpc.internal.FrameEncoder;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
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
 * A call's request frame written and read the way braid-rpc does it: the client builds the
 * envelope (call id and timeout set on the request), {@link FrameEncoder#encode} writes it into a
 * pooled buffer, {@link FrameDecoder#parse} reads it back. Payload 64 B or 1 KiB.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FrameBenchmark {
    @Param({"64", "1024"})
    public int payloadBytes;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private Request.Builder request;
    private ByteBuf frame;
    private long callId;

    @Setup
    public void setUp() throws IOException {
        request = Request.newBuilder().setMethod("echo").setPayload(ByteString.copyFrom(new byte[payloadBytes]));
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

    /** Envelope built and written into a pooled buffer, which is then released. */
    @Benchmark
    public int encode() throws IOException {
        Envelope envelope = envelope();
        ByteBuf out = FrameEncoder.encode(alloc, envelope, envelope.getSerializedSize());
        int written = out.readableBytes();
        out.release();
        return written;
    }

    /** Envelope parsed from a frame in a pooled buffer. */
    @Benchmark
    public Envelope decode() {
        return FrameDecoder.parse(frame, frame.readerIndex() + 4, frame.readableBytes() - 4);
    }
}
