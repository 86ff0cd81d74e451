package io.braid.rpc.internal;

import io.braid.api.Ticker;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose peer begins a frame and does not finish it within the timeout: the
 * slowloris that sends a length prefix and then dribbles the body a byte at a time, which the
 * idle timeout alone never catches because every byte counts as activity.
 *
 * <p>Sits just before {@link FrameDecoder} and only watches: it follows the frame boundaries
 * (4-byte length, then that many bytes) as the bytes pass, consumes nothing, and notes when each
 * frame was begun. Only a read that ends in the middle of a frame arms a timer (a request that
 * arrives whole in one read, the usual case, costs no timer); when it fires it closes the
 * connection if a frame begun longer than the timeout ago is still unfinished, and otherwise waits
 * for whatever frame is in progress. Silence between frames is the idle timeout's business. While the server itself has stopped
 * reading (backpressure: the peer does not read its answers) the timer waits again rather than
 * blaming the peer for bytes the server has not read. One instance per connection; event loop only.
 */
public final class FrameReadTimeout extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(FrameReadTimeout.class);

    private final long timeoutNanos;
    private final Ticker ticker;
    private int headerBytesSeen;
    private int header;
    private long bodyBytesLeft;
    private long frameBegunNanos;
    private ScheduledFuture<?> timer;

    /** @param ticker the clock a frame's age is read on; the timer itself fires on the event loop's time */
    public FrameReadTimeout(Duration timeout, Ticker ticker) {
        this.timeoutNanos = timeout.toNanos();
        this.ticker = ticker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            follow(bytes);
            if (timer == null && midFrame()) {
                schedule(ctx, timeoutNanos - (ticker.read() - frameBegunNanos));
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void follow(ByteBuf bytes) {
        int index = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (index < end) {
            if (bodyBytesLeft > 0) {
                int skip = (int) Math.min(bodyBytesLeft, end - index);
                index += skip;
                bodyBytesLeft -= skip;
                continue;
            }
            if (headerBytesSeen == 0) {
                frameBegunNanos = ticker.read();
            }
            header = (header << 8) | (bytes.getByte(index++) & 0xff);
            if (++headerBytesSeen == FrameDecoder.HEADER_BYTES) {
                // A negative length is garbage: the decoder closes the connection on it.
                bodyBytesLeft = Math.max(0, header);
                headerBytesSeen = 0;
                header = 0;
            }
        }
    }

    private boolean midFrame() {
        return headerBytesSeen > 0 || bodyBytesLeft > 0;
    }

    private void schedule(ChannelHandlerContext ctx, long delayNanos) {
        timer = ctx.executor().schedule(() -> expire(ctx), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        if (!midFrame() || !ctx.channel().isOpen()) {
            return;
        }
        long waited = ticker.read() - frameBegunNanos;
        if (waited < timeoutNanos) {
            schedule(ctx, timeoutNanos - waited); // a later frame, begun since this timer was armed
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            schedule(ctx, timeoutNanos); // we are not reading: the peer is not to blame yet
            return;
        }
        log.warn("closing connection from {}: a frame begun {} ago is still unfinished ({} bytes missing; frameReadTimeout)",
                ctx.channel().remoteAddress(), Duration.ofNanos(waited),
                headerBytesSeen > 0 ? FrameDecoder.HEADER_BYTES - headerBytesSeen + "+" : Long.toString(bodyBytesLeft));
        ctx.close();
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
    }
}
