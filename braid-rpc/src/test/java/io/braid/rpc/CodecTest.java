package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static io.braid.rpc.ErrorPathTest.messageOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Parser;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Codec;
import io.braid.rpc.internal.Codecs;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.RpcServer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-call content types: protobuf binary, protobuf JSON, raw bytes, a user codec, an unknown one. */
class CodecTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private static Struct player(String name, double level) {
        return Struct.newBuilder()
                .putFields("name", Value.newBuilder().setStringValue(name).build())
                .putFields("level", Value.newBuilder().setNumberValue(level).build())
                .build();
    }

    private RpcServer levelUpServer() {
        return cluster.server(s -> s.handle("levelUp", Struct.parser(), (ctx, req) -> {
            double level = req.getFieldsOrThrow("level").getNumberValue();
            return req.toBuilder().putFields("level", Value.newBuilder().setNumberValue(level + 1).build()).build();
        }));
    }

    @Test
    void protobufBinaryAndJsonRoundTripTheSameMessage() throws Exception {
        levelUpServer();
        RpcClient client = cluster.client();

        for (CallOptions options : new CallOptions[] {CallOptions.DEFAULT,
                CallOptions.DEFAULT.withContentType(Codec.PROTOBUF), CallOptions.DEFAULT.withContentType(Codec.JSON)}) {
            Struct answer = client.invoke(TestCluster.SERVICE, "levelUp", "", player("ann", 4), Struct.parser(), options)
                    .get(5, TimeUnit.SECONDS);
            assertThat(answer).isEqualTo(player("ann", 5));
        }
    }

    @Test
    void jsonOnTheWireIsReadableJson() throws Exception {
        levelUpServer();
        RpcClient client = cluster.client();

        byte[] answer = client.invoke(TestCluster.SERVICE, "levelUp", "",
                "{\"name\":\"bob\",\"level\":1}".getBytes(StandardCharsets.UTF_8),
                CallOptions.DEFAULT.withContentType(Codec.JSON)).get(5, TimeUnit.SECONDS);

        assertThat(new String(answer, StandardCharsets.UTF_8)).contains("\"name\":\"bob\"").contains("\"level\":2");
    }

    @Test
    void rawBytesPassThrough() throws Exception {
        cluster.server(s -> s.handleBytes("reverse", (ctx, req) -> {
            byte[] out = new byte[req.length];
            for (int i = 0; i < req.length; i++) {
                out[i] = req[req.length - 1 - i];
            }
            return out;
        }));
        RpcClient client = cluster.client();
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }

        byte[] answer = client.invoke(TestCluster.SERVICE, "reverse", "", all, CallOptions.DEFAULT.withContentType(Codec.RAW))
                .get(5, TimeUnit.SECONDS);

        assertThat(answer[0]).isEqualTo((byte) 255);
        assertThat(answer[255]).isEqualTo((byte) 0);
    }

    /** A user codec: the protobuf bytes, reversed. Silly, but nobody could decode it by accident. */
    private static final class Reversed implements Codec {
        @Override
        public String contentType() {
            return "application/x-reversed";
        }

        @Override
        public ByteString encode(Object value) throws Exception {
            byte[] bytes = Codecs.protobuf().encode(value).toByteArray();
            for (int i = 0, j = bytes.length - 1; i < j; i++, j--) {
                byte b = bytes[i];
                bytes[i] = bytes[j];
                bytes[j] = b;
            }
            return ByteString.copyFrom(bytes);
        }

        @Override
        public <T> T decode(ByteString bytes, Parser<T> parser) throws Exception {
            byte[] reversed = encode(bytes.toByteArray()).toByteArray();
            return parser.parseFrom(reversed);
        }
    }

    @Test
    void aUserCodecIsUsedOnBothSides() throws Exception {
        AtomicReference<String> seenPayloadType = new AtomicReference<>();
        cluster.server(b -> b.codec(new Reversed()).intercept((call, next) -> {
            seenPayloadType.set(call.method());
            return next.proceed(call);
        }), s -> s.handle("levelUp", Struct.parser(), (ctx, req) -> req));
        RpcClient client = cluster.client(b -> b.codec(new Reversed()));

        Struct answer = client.invoke(TestCluster.SERVICE, "levelUp", "", player("cy", 9), Struct.parser(),
                CallOptions.DEFAULT.withContentType("application/x-reversed")).get(5, TimeUnit.SECONDS);

        assertThat(answer).isEqualTo(player("cy", 9));
        assertThat(seenPayloadType).hasValue("levelUp");
    }

    @Test
    void anUnknownContentTypeIsInvalidArgumentNamingIt() {
        levelUpServer();
        RpcClient client = cluster.client(b -> b.codec(new Reversed())); // the server does not know it

        CompletableFuture<Struct> serverSide = client.invoke(TestCluster.SERVICE, "levelUp", "", player("d", 1),
                Struct.parser(), CallOptions.DEFAULT.withContentType("application/x-reversed"));
        CompletableFuture<Struct> clientSide = client.invoke(TestCluster.SERVICE, "levelUp", "", player("d", 1),
                Struct.parser(), CallOptions.DEFAULT.withContentType("text/yaml"));

        assertThat(codeOf(serverSide)).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(messageOf(serverSide)).contains("application/x-reversed");
        assertThat(codeOf(clientSide)).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(messageOf(clientSide)).contains("text/yaml");
    }

    @Test
    void jsonThatDoesNotParseIsInvalidArgument() {
        levelUpServer();
        RpcClient client = cluster.client();

        CompletableFuture<byte[]> call = client.invoke(TestCluster.SERVICE, "levelUp", "",
                "{not json".getBytes(StandardCharsets.UTF_8), CallOptions.DEFAULT.withContentType(Codec.JSON));

        assertThat(codeOf(call)).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(messageOf(call)).contains(Codec.JSON);
    }
}
