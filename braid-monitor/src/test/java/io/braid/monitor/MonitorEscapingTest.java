package io.braid.monitor;

import static io.braid.monitor.MonitorJson.node;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Strings the monitor did not choose (a token, a path; service names and node ids are restricted to
 * {@code [A-Za-z0-9._-]} by discovery) come out of its HTTP API as
 * JSON a page may embed: {@code "</script>"} cannot close a script element, U+2028/U+2029 cannot
 * end a JavaScript line, quotes, backslashes and control characters are escapes, a character beyond
 * the BMP stays as it is, and every answer reads back as exactly what went in.
 */
class MonitorEscapingTest {
    private static final String TOKEN = "s3cret-monitor-token-0123";
    private static final String HOSTILE = "a\"b\\c</script><!--\u2028\u2029\u0001\u001f\t\n&'=>\uD83C\uDFAE";
    private static TestCluster cluster;
    private static String base;

    @BeforeAll
    static void startCluster() {
        cluster = new TestCluster();
        base = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN))).baseUrl();
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    private static void assertEscaped(String body) {
        assertThat(body).doesNotContain("<", ">", "\u2028", "\u2029", "\u0001", "\u001f", "\t", "\n")
                .contains("\\u003c/script\\u003e", "\\u2028", "\\u2029", "\\u0001", "\\u001f", "\\t", "\\n",
                        "a\\\"b\\\\c", "\uD83C\uDFAE");
    }

    private static String encoded(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Test
    void aHostileTokenIsEscapedInItsAnswer() {
        HttpResponse<String> answer = Http.get(base + "/api/tokens/" + encoded(HOSTILE), TOKEN);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertEscaped(answer.body());
        assertThat(MonitorJson.parseObject(answer.body()))
                .containsEntry("token", HOSTILE).containsEntry("links", List.of());
    }

    @Test
    void aHostilePathIsEscapedInTheErrorThatNamesIt() {
        HttpResponse<String> answer = Http.get(base + "/api/" + encoded(HOSTILE), TOKEN);
        assertThat(answer.statusCode()).isEqualTo(404);
        assertThat(answer.headers().firstValue("Content-Type")).contains("application/json; charset=utf-8");
        assertEscaped(answer.body());
        assertThat(MonitorJson.parseObject(answer.body())).containsEntry("error", "no such page: /api/" + HOSTILE);
    }

    @Test
    void theClusterViewReadsBackWithItsNumbersAsNumbers() {
        Map<String, Object> node = node(Http.json(Http.get(base + "/api/cluster", TOKEN)), "gateway", "gateway-1");
        assertThat(node.get("reachable")).isEqualTo(true);
        assertThat(node.get("epoch")).isInstanceOf(Long.class);
        assertThat(node.get("weight")).isEqualTo(100L);
        assertThat(node.get("callRate")).isInstanceOf(Number.class);
    }
}
