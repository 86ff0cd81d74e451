package io.braid.monitor.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.NodeState;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The monitor's JSON as the dashboard and the other nodes read it, written and read through Gson. */
class JsonCodecTest {
    @Test
    void figuresAreNumbersWholeOnesWithoutAFractionAndNonFiniteOnesNull() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("whole", 2.0);
        json.put("rate", 1.23456);
        json.put("half", 0.5f);
        json.put("nan", Double.NaN);
        json.put("infinite", Double.POSITIVE_INFINITY);
        json.put("calls", 12L);
        json.put("weight", 100);
        json.put("history", List.of(List.of(1_700_000_000_000L, 3.0, 0.25)));

        assertThat(JsonCodec.write(json)).isEqualTo("{\"whole\":2,\"rate\":1.235,\"half\":0.5,\"nan\":null,"
                + "\"infinite\":null,\"calls\":12,\"weight\":100,\"history\":[[1700000000000,3,0.25]]}");
    }

    @Test
    void nullsBooleansAndEnumsAreWrittenAsTheDashboardReadsThem() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("leader", null);
        json.put("reachable", true);
        json.put("state", NodeState.DRAINING);
        json.put("links", Arrays.asList(1L, null));

        assertThat(JsonCodec.write(json))
                .isEqualTo("{\"leader\":null,\"reachable\":true,\"state\":\"DRAINING\",\"links\":[1,null]}");
    }

    /**
     * Safe inside a page and valid in UTF-8: "<" and ">" cannot open or close a tag, U+2028/U+2029
     * cannot end a JavaScript line, control characters are escapes, a character beyond the BMP stays
     * as it is and a lone surrogate, which UTF-8 cannot carry, becomes an escape.
     */
    @Test
    void stringsAreEscapedForAPageAndForUtf8() {
        String hostile = "\"\\</script>\u2028\u2029\u0000\u001f\uD83C\uDFAE|\uD83C|\uDFAE";
        byte[] utf8 = JsonCodec.utf8(Map.of(hostile, hostile));
        String text = new String(utf8, StandardCharsets.UTF_8);
        String escaped = "\"\\\"\\\\\\u003c/script\\u003e\\u2028\\u2029\\u0000\\u001f\uD83C\uDFAE|\\ud83c|\\udfae\"";

        assertThat(text).isEqualTo("{" + escaped + ":" + escaped + "}");
        assertThat(JsonCodec.parseObject(text)).containsEntry(hostile, hostile).hasSize(1);
    }

    @Test
    void readsWholeNumbersAsLongsAndOthersAsDoubles() {
        Map<String, Object> json = JsonCodec.parseObject(
                "{\"links\":12,\"rate\":1.5,\"big\":1e3,\"methods\":[{\"calls\":3}],\"leader\":null}");

        assertThat(json.get("links")).isEqualTo(12L);
        assertThat(json.get("rate")).isEqualTo(1.5);
        assertThat(json.get("big")).isEqualTo(1000.0);
        assertThat(json.get("methods")).isEqualTo(List.of(Map.of("calls", 3L)));
        assertThat(json).containsEntry("leader", null);
    }

    @Test
    void whatIsNotOneJsonObjectIsAnIllegalArgument() {
        for (String bad : List.of("", "  ", "[1]", "\"text\"", "{\"weight\":", "{\"weight\":1} trailing",
                "{weight:1}", "{\"a\":1,\"a\":2}", "{'weight':1}")) {
            assertThatThrownBy(() -> JsonCodec.parseObject(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
