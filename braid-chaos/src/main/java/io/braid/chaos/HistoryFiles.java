package io.braid.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Writes a run's history as tab-separated files next to the node logs, for looking into a violation. */
final class HistoryFiles {
    private HistoryFiles() {
    }

    static void write(History history, Path dir) {
        write(dir.resolve("calls.tsv"), "token\tstart\tend\toutcome\thung\tservedBy\tcounter", history.calls,
                c -> c.token() + "\t" + c.start() + "\t" + c.end() + "\t" + c.outcome() + "\t" + c.hung() + "\t"
                        + c.servedBy() + "\t" + c.counter());
        write(dir.resolve("served.tsv"), "node\ttoken\tstart\tend", history.served,
                s -> s.node() + "\t" + s.token() + "\t" + s.start() + "\t" + s.end());
        write(dir.resolve("leaderships.tsv"), "node\tservice\tepoch\tfrom\tto", history.leaderships(),
                l -> l.node() + "\t" + l.service() + "\t" + l.epoch() + "\t" + l.from() + "\t" + l.to());
        write(dir.resolve("handled.tsv"), "node\tchannel\tid\tseq\tat\tdeliveryCount", history.handled,
                h -> h.node() + "\t" + h.channel() + "\t" + h.id() + "\t" + h.seq() + "\t" + h.at() + "\t" + h.deliveryCount());
        write(dir.resolve("streamed.tsv"), "node\ttoken\tstream\tseq\tstart\tend", history.streamed,
                m -> m.node() + "\t" + m.token() + "\t" + m.stream() + "\t" + m.seq() + "\t" + m.start() + "\t" + m.end());
        write(dir.resolve("epochs.tsv"), "node\tservice\tepoch\tat", history.epochs,
                e -> e.node() + "\t" + e.service() + "\t" + e.epoch() + "\t" + e.at());
        write(dir.resolve("published.tsv"), "seq\tid\tsentAt\tackedAt", history.published,
                p -> p.seq() + "\t" + p.id() + "\t" + p.sentAt() + "\t" + p.ackedAt());
        write(dir.resolve("relinked.tsv"), "token\tnode\tat", history.relinked,
                r -> r.token() + "\t" + r.node() + "\t" + r.at());
        write(dir.resolve("faults.tsv"), "index\tkind\tvictim\tinjected\thealed\tdetected\trecovered", history.faults,
                f -> f.index() + "\t" + f.kind() + "\t" + f.victim() + "\t" + f.injected() + "\t" + f.healed() + "\t"
                        + f.detected() + "\t" + f.recovered());
        write(dir.resolve("stalls.tsv"), "from\tto", history.stalls, s -> s.from() + "\t" + s.to());
    }

    private static <T> void write(Path file, String header, Collection<T> rows, Function<T, String> line) {
        try {
            Files.writeString(file, header + "\n" + rows.stream().map(line).collect(Collectors.joining("\n")) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
