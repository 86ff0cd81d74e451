package io.braid.monitor.internal;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.ToNumberPolicy;
import com.google.gson.TypeAdapter;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import io.braid.api.internal.LoneSurrogates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The monitor's JSON, through Gson: its HTTP answers, {@code braid.stats} and the operator actions'
 * answers are maps, lists, strings, numbers, booleans, enums and nulls written here, and what other
 * nodes answer is read here. Written: null map values as {@code null} (the dashboard reads
 * {@code leader: null}); a {@code double} or {@code float} without a fraction as a whole number,
 * others rounded to 3 decimals, NaN and infinities as {@code null}; strings escaped by Gson so the
 * text is safe inside a page ({@code < > & = '}, U+2028/U+2029 and control characters as escapes)
 * and lone surrogates as escapes so it is valid UTF-8 ({@link LoneSurrogates}). Read: strictly, one
 * object, whole numbers as {@code Long}, others as {@code Double}.
 */
public final class JsonCodec {
    private static final TypeAdapter<Number> FIGURE = new TypeAdapter<>() {
        @Override
        public void write(JsonWriter out, Number value) throws IOException {
            double number = value == null ? Double.NaN : value.doubleValue();
            if (Double.isNaN(number) || Double.isInfinite(number)) {
                out.nullValue();
            } else if (number == Math.rint(number) && Math.abs(number) < 1e15) {
                out.value((long) number);
            } else {
                out.value(Math.round(number * 1000.0) / 1000.0);
            }
        }

        @Override
        public Number read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return null;
            }
            return in.nextDouble();
        }
    };

    private static final Gson GSON = new GsonBuilder()
            .serializeNulls()
            .registerTypeAdapter(Double.class, FIGURE)
            .registerTypeAdapter(Float.class, FIGURE)
            .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE)
            .setStrictness(Strictness.STRICT)
            .create();
    /**
     * Reads what {@link #write} writes, lone surrogates (as escapes) included: Gson's STRICT refuses
     * those since 2.14, and a node's stats may carry a name a client chose. LEGACY_STRICT still refuses
     * everything else that is not JSON (unquoted or single-quoted names, trailing text, repeated names).
     */
    private static final Gson READER = GSON.newBuilder().setStrictness(Strictness.LEGACY_STRICT).create();
    private static final TypeToken<Map<String, Object>> OBJECT = new TypeToken<>() {
    };

    private JsonCodec() {
    }

    /** {@code value} as JSON text. */
    public static String write(Object value) {
        return LoneSurrogates.escape(GSON.toJson(value));
    }

    /** {@code value} as JSON in UTF-8. */
    public static byte[] utf8(Object value) {
        return write(value).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads one JSON object.
     *
     * @throws IllegalArgumentException if {@code text} is not exactly one JSON object
     */
    public static Map<String, Object> parseObject(String text) {
        Map<String, Object> object;
        try {
            object = READER.fromJson(text, OBJECT);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("not a JSON object: " + e.getMessage(), e);
        }
        if (object == null) {
            throw new IllegalArgumentException("expected a JSON object, got nothing");
        }
        return object;
    }
}
