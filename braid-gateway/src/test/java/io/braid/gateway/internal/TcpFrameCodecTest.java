package io.braid.gateway.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.braid.api.Code;
import io.braid.gateway.proto.Call;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.Reply;
import io.braid.gateway.proto.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The TCP frame codec driven through an {@link EmbeddedChannel}: one prefixed buffer out, frames in, garbage refused. */
class TcpFrameCodecTest {
    @Test
    void aServerFrameLeavesAsOneBufferOfItsLengthPrefixAndItsBytes() {
        EmbeddedChannel channel = new EmbeddedChannel(new TcpFrameCodec());
        ServerFrame frame = ServerFrame.newBuilder().setReply(Reply.newBuilder().setSeq(7).setCode(0)
                .setPayload(ByteString.copyFromUtf8("answer"))).build();

        assertThat(channel.writeOutbound(frame)).isTrue();
        ByteBuf out = channel.readOutbound();
        try {
            byte[] expected = frame.toByteArray();
            assertThat(out.readableBytes()).isEqualTo(4 + expected.length);
            assertThat(out.readInt()).isEqualTo(expected.length);
            byte[] body = new byte[expected.length];
            out.readBytes(body);
            assertThat(body).isEqualTo(expected);
        } finally {
            out.release();
        }
        assertThat((Object) channel.readOutbound()).as("one buffer per frame, no separate prefix").isNull();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aClientFrameIsReadFromTheBufferWhichIsReleased() {
        EmbeddedChannel channel = new EmbeddedChannel(new TcpFrameCodec());
        ClientFrame frame = ClientFrame.newBuilder().setCall(Call.newBuilder().setSeq(3).setRoute("logic.player.act")
                .setPayload(ByteString.copyFromUtf8("jump"))).build();
        ByteBuf in = channel.alloc().directBuffer().writeBytes(frame.toByteArray());

        assertThat(channel.writeInbound(in)).isTrue();
        assertThat((ClientFrame) channel.readInbound()).isEqualTo(frame);
        assertThat(in.refCnt()).isZero();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void bytesThatAreNoClientFrameFailWithInvalidArgumentAndAreReleased() {
        EmbeddedChannel channel = new EmbeddedChannel(new TcpFrameCodec());
        ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});

        assertThatThrownBy(() -> channel.writeInbound(garbage))
                .isInstanceOfSatisfying(BadFrameException.class, e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT))
                .hasMessageContaining("not a client frame (3 bytes)");
        assertThat(garbage.refCnt()).isZero();
        assertThat(channel.finish()).isFalse();
    }
}
