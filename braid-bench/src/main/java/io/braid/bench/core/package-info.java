/**
 * The harness every benchmark suite shares: a {@link io.braid.bench.core.Load} driven closed-loop
 * or at a fixed rate by {@link io.braid.bench.core.Runner}, subjects compared with a baseline in
 * interleaved repeats by {@link io.braid.bench.core.Comparison}, CPU and allocation per operation
 * read from each side through {@link io.braid.bench.core.Usage.Meter}, and
 * {@link io.braid.bench.core.Report} writing BENCHMARKS.md tables and a CSV.
 */
package io.braid.bench.core;
