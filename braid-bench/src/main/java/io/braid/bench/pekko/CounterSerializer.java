package io.braid.bench.pekko;

import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * A hand-written binary serializer for the counter's two messages, the cheapest way Pekko can
 * carry them (no reflection, no JSON): {@link PekkoCounter.Increment} is the payload's length, the
 * payload and the reply-to actor's path; {@link PekkoCounter.Value} the count and the node's name.
 * Pekko creates one per actor system (the constructor it calls takes the system); stateless apart
 * from the actor-ref resolver it looks up on first use. Thread-safe.
 */
public final class CounterSerializer extends SerializerWithStringManifest {
    /** Unique among the serializers of a system; Pekko keeps 0 to 40 for its own. */
    static final int IDENTIFIER = 180_018;
    private static final String INCREMENT = "I";
    private static final String VALUE = "V";

    private final ExtendedActorSystem system;
    private volatile ActorRefResolver resolver;

    public CounterSerializer(ExtendedActorSystem system) {
        this.system = system;
    }

    @Override
    public int identifier() {
        return IDENTIFIER;
    }

    @Override
    public String manifest(Object message) {
        if (message instanceof PekkoCounter.Increment) {
            return INCREMENT;
        }
        if (message instanceof PekkoCounter.Value) {
            return VALUE;
        }
        throw new IllegalArgumentException("CounterSerializer cannot write " + message.getClass().getName());
    }

    @Override
    public byte[] toBinary(Object message) {
        if (message instanceof PekkoCounter.Increment increment) {
            byte[] replyTo = resolver().toSerializationFormat(increment.replyTo()).getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(Integer.BYTES + increment.payload().length + replyTo.length)
                    .putInt(increment.payload().length).put(increment.payload()).put(replyTo).array();
        }
        if (message instanceof PekkoCounter.Value value) {
            byte[] node = value.node().getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(Long.BYTES + node.length).putLong(value.count()).put(node).array();
        }
        throw new IllegalArgumentException("CounterSerializer cannot write " + message.getClass().getName());
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        switch (manifest) {
            case INCREMENT -> {
                byte[] payload = new byte[in.getInt()];
                in.get(payload);
                String path = new String(bytes, in.position(), in.remaining(), StandardCharsets.UTF_8);
                ActorRef<PekkoCounter.Value> replyTo = resolver().resolveActorRef(path);
                return new PekkoCounter.Increment(payload, replyTo);
            }
            case VALUE -> {
                long count = in.getLong();
                return new PekkoCounter.Value(count, new String(bytes, in.position(), in.remaining(),
                        StandardCharsets.UTF_8));
            }
            default -> throw new NotSerializableException("CounterSerializer has no manifest '" + manifest + "'");
        }
    }

    private ActorRefResolver resolver() {
        ActorRefResolver found = resolver;
        if (found == null) {
            found = ActorRefResolver.get(Adapter.toTyped(system));
            resolver = found;
        }
        return found;
    }
}
