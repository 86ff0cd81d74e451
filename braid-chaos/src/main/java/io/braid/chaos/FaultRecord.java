package io.braid.chaos;

/**
 * One fault as it was applied, in wall-clock microseconds. {@code detected} is 0 when nothing
 * noticed it; {@code recovered} is 0 when full service did not return within the bound.
 */
record FaultRecord(int index, FaultKind kind, String victim, long injected, long healed, long detected,
                   long recovered) {
}
