package io.braid.bench.core;

/**
 * What one measured window of one subject produced. Per-operation figures are {@code NaN} when a
 * side was not measured.
 *
 * @param opsPerSecond      completed operations per second (failed ones excluded)
 * @param p50Micros         median latency
 * @param p99Micros         99th percentile latency
 * @param p999Micros        99.9th percentile latency
 * @param errors            operations that failed in the window
 * @param clientBytesPerOp  heap bytes allocated per operation by the load side (this JVM)
 * @param serverBytesPerOp  heap bytes allocated per operation by the serving side
 * @param cpuMicrosPerOp    CPU microseconds per operation, load side plus serving side
 */
public record Sample(double opsPerSecond, double p50Micros, double p99Micros, double p999Micros, long errors,
        double clientBytesPerOp, double serverBytesPerOp, double cpuMicrosPerOp) {
}
