package io.braid.rpc.internal;

import io.braid.api.Codec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Content type to codec, the built-in ones first; an empty content type means protobuf binary. */
public final class CodecRegistry {
    private final Map<String, Codec> byType;

    public CodecRegistry(List<Codec> custom) {
        Map<String, Codec> map = new LinkedHashMap<>();
        for (Codec codec : List.of(Codecs.protobuf(), Codecs.json(), Codecs.raw())) {
            map.put(codec.contentType(), codec);
        }
        for (Codec codec : custom) {
            Objects.requireNonNull(codec, "codec");
            if (map.putIfAbsent(codec.contentType(), codec) != null) {
                throw new IllegalArgumentException("a codec for '" + codec.contentType() + "' is already registered");
            }
        }
        this.byType = Map.copyOf(map);
    }

    /** The codec of this content type; protobuf for null or empty; null when unknown. */
    public Codec resolve(String contentType) {
        return contentType == null || contentType.isEmpty() ? Codecs.protobuf() : byType.get(contentType);
    }

    @Override
    public String toString() {
        return String.join(", ", byType.keySet());
    }

    /** What goes on the wire: empty for the default, so protobuf calls carry no extra bytes. */
    public static String wireName(Codec codec) {
        return codec == Codecs.protobuf() ? "" : codec.contentType();
    }
}
