package io.braid.bench.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Collects rows and free text per section and writes them as Markdown tables (BENCHMARKS.md)
 * and one CSV with every figure.
 */
public final class Report {
    private final List<Row> rows = new ArrayList<>();
    private final Map<String, List<String>> notes = new LinkedHashMap<>();
    private final Map<String, String> titles = new LinkedHashMap<>();

    /** Names a section's heading; sections appear in the order they are first named or filled. */
    public synchronized Report section(String group, String title) {
        titles.put(group, title);
        return this;
    }

    public synchronized Report add(List<Row> measured) {
        for (Row row : measured) {
            titles.putIfAbsent(row.group(), row.group());
            rows.add(row);
        }
        return this;
    }

    /** A paragraph or table written under a section, after its rows. */
    public synchronized Report note(String group, String markdown) {
        titles.putIfAbsent(group, group);
        notes.computeIfAbsent(group, g -> new ArrayList<>()).add(markdown);
        return this;
    }

    public synchronized List<Row> rows() {
        return List.copyOf(rows);
    }

    public synchronized String markdown(String preamble) {
        StringBuilder out = new StringBuilder(preamble);
        for (Map.Entry<String, String> section : titles.entrySet()) {
            out.append("\n## ").append(section.getValue()).append("\n\n");
            List<Row> inSection = rows.stream().filter(r -> r.group().equals(section.getKey())).toList();
            if (!inSection.isEmpty()) {
                out.append("| cell | subject | ops/s | x baseline | p50 µs | p99 µs | p99.9 µs | p99 x baseline "
                        + "| B/op load side | B/op serving side | CPU µs/op | errors |\n");
                out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
                for (Row row : inSection) {
                    Sample s = row.sample();
                    out.append(String.format(Locale.ROOT,
                            "| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |%n", row.cell(),
                            row.subject(), row.isBaseline() ? " *(baseline)*" : "", number(s.opsPerSecond(), 0),
                            ratio(row.throughputRatio()), number(s.p50Micros(), 1), number(s.p99Micros(), 1),
                            number(s.p999Micros(), 1), ratio(row.p99Ratio()), number(s.clientBytesPerOp(), 0),
                            number(s.serverBytesPerOp(), 0), number(s.cpuMicrosPerOp(), 1), s.errors()));
                }
            }
            for (String note : notes.getOrDefault(section.getKey(), List.of())) {
                out.append('\n').append(note.strip()).append('\n');
            }
        }
        return out.toString();
    }

    public synchronized String csv() {
        StringBuilder out = new StringBuilder("group,cell,subject,baseline,ops_per_s,ratio_to_baseline,p50_us,p99_us,"
                + "p999_us,p99_ratio_to_baseline,client_bytes_per_op,server_bytes_per_op,cpu_us_per_op,errors\n");
        for (Row row : rows) {
            Sample s = row.sample();
            out.append(String.join(",", csvText(row.group()), csvText(row.cell()), csvText(row.subject()),
                    csvText(row.baseline()), number(s.opsPerSecond(), 1), number(row.throughputRatio(), 4),
                    number(s.p50Micros(), 2), number(s.p99Micros(), 2), number(s.p999Micros(), 2),
                    number(row.p99Ratio(), 4), number(s.clientBytesPerOp(), 1), number(s.serverBytesPerOp(), 1),
                    number(s.cpuMicrosPerOp(), 2), Long.toString(s.errors()))).append('\n');
        }
        return out.toString();
    }

    public void write(Path markdownFile, String preamble, Path csvFile) throws IOException {
        Files.writeString(markdownFile, markdown(preamble), StandardCharsets.UTF_8);
        Files.writeString(csvFile, csv(), StandardCharsets.UTF_8);
    }

    private static String ratio(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "–" : String.format(Locale.ROOT, "%.2fx", value);
    }

    private static String number(double value, int decimals) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "–"
                : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static String csvText(String text) {
        return text.contains(",") || text.contains("\"") ? '"' + text.replace("\"", "\"\"") + '"' : text;
    }
}
