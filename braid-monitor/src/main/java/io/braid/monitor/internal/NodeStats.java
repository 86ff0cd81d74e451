package io.braid.monitor.internal;

import io.braid.api.Code;
import io.braid.api.Elector;
import io.braid.api.Node;
import io.braid.api.Ticker;
import io.braid.api.internal.NodeView;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * This node's own figures, which it answers on {@code braid.stats} so that any node's monitor can
 * show the whole cluster: its state, role, epoch and links, and for each method it served the
 * call count, errors, and a short history of call rate and p99 (a ring buffer of samples, one
 * every sample interval). {@link #sample()} is called by the monitor's sampler thread; everything
 * else may be called from any thread.
 */
public final class NodeStats {
    /** One sample of one method: when (epoch ms), calls per second since the last sample, p99 in ms. */
    public record Sample(long atMillis, double rate, double p99Millis) {
    }

    private static final class MethodHistory {
        long lastCount = -1;
        final Deque<Sample> samples = new ArrayDeque<>();
    }

    private final RpcMetrics rpc;
    private final int capacity;
    private final long intervalMillis;
    private final Ticker ticker;
    private final LongSupplier clock;
    private final Map<String, MethodHistory> history = new TreeMap<>();
    private long lastSampleNanos;
    private boolean sampled;

    /**
     * @param capacity       samples kept per method
     * @param intervalMillis the sample interval (reported so pages can label their charts)
     * @param ticker         the time between two samples, which call rates are measured over
     * @param clock          wall-clock milliseconds for the samples' times
     */
    public NodeStats(RpcMetrics rpc, int capacity, long intervalMillis, Ticker ticker, LongSupplier clock) {
        this.rpc = rpc;
        this.capacity = capacity;
        this.intervalMillis = intervalMillis;
        this.ticker = ticker;
        this.clock = clock;
    }

    /** Takes one sample of every method this node has served. */
    public synchronized void sample() {
        long now = ticker.read();
        double seconds = sampled ? (now - lastSampleNanos) / 1e9 : 0; // any reading, zero included, is a time
        lastSampleNanos = now;
        sampled = true;
        long at = clock.getAsLong();
        for (Map.Entry<String, long[]> method : totals().entrySet()) {
            MethodHistory h = history.computeIfAbsent(method.getKey(), m -> new MethodHistory());
            long count = method.getValue()[0];
            double rate = h.lastCount < 0 || seconds <= 0 ? 0 : Math.max(0, count - h.lastCount) / seconds;
            h.lastCount = count;
            h.samples.addLast(new Sample(at, rate, p99Millis(method.getKey())));
            while (h.samples.size() > capacity) {
                h.samples.removeFirst();
            }
        }
    }

    /** Per method: {calls, errors}. */
    private Map<String, long[]> totals() {
        Map<String, long[]> totals = new TreeMap<>();
        for (Map.Entry<RpcMetrics.Key, Timer> timer : rpc.serverTimers().entrySet()) {
            long[] figures = totals.computeIfAbsent(timer.getKey().method(), m -> new long[2]);
            long count = timer.getValue().count();
            figures[0] += count;
            if (timer.getKey().code() != Code.OK) {
                figures[1] += count;
            }
        }
        return totals;
    }

    /** The worst p99 over the method's code series (in practice its OK series), in ms. */
    private double p99Millis(String method) {
        double worst = 0;
        for (Map.Entry<RpcMetrics.Key, Timer> timer : rpc.serverTimers().entrySet()) {
            if (!timer.getKey().method().equals(method)) {
                continue;
            }
            HistogramSnapshot snapshot = timer.getValue().takeSnapshot();
            for (ValueAtPercentile percentile : snapshot.percentileValues()) {
                if (Math.abs(percentile.percentile() - 0.99) < 1e-9) {
                    worst = Math.max(worst, percentile.value(TimeUnit.MILLISECONDS));
                }
            }
        }
        return worst;
    }

    /** This node's figures as the JSON object {@code braid.stats} answers. */
    public synchronized Map<String, Object> toJson(NodeView view, long links) {
        Node node = view.node();
        Elector elector = view.elector();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("node", node.id());
        json.put("service", node.service());
        json.put("address", node.address());
        json.put("state", node.state().name());
        json.put("weight", node.weight());
        json.put("role", elector.role().name());
        json.put("epoch", elector.epoch());
        json.put("leader", elector.leader().orElse(null));
        json.put("links", links);
        json.put("sampleIntervalMs", intervalMillis);
        List<Object> methods = new ArrayList<>();
        double rate = 0;
        double p99 = 0;
        for (Map.Entry<String, long[]> method : totals().entrySet()) {
            MethodHistory h = history.get(method.getKey());
            Sample last = h == null || h.samples.isEmpty() ? null : h.samples.getLast();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", method.getKey());
            m.put("calls", method.getValue()[0]);
            m.put("errors", method.getValue()[1]);
            m.put("rate", last == null ? 0.0 : last.rate());
            m.put("p99Ms", p99Millis(method.getKey()));
            List<Object> samples = new ArrayList<>();
            if (h != null) {
                for (Sample sample : h.samples) {
                    samples.add(List.of(sample.atMillis(), sample.rate(), sample.p99Millis()));
                }
            }
            m.put("history", samples);
            methods.add(m);
            rate += last == null ? 0 : last.rate();
            p99 = Math.max(p99, (double) m.get("p99Ms"));
        }
        json.put("callRate", rate);
        json.put("p99Ms", p99);
        json.put("methods", methods);
        return json;
    }
}
