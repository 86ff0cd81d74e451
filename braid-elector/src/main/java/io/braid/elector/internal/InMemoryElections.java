package io.braid.elector.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The elections of one in-memory cluster: per service, who leads, the epoch, and the candidates in
 * the order they joined. Share one instance among the nodes of one JVM-local cluster. Thread-safe.
 */
public final class InMemoryElections {
    private final Map<String, Race> races = new HashMap<>();

    private static final class Race {
        final List<InMemoryElector> candidates = new ArrayList<>();
        InMemoryElector leader;
        long epoch;
    }

    synchronized void join(InMemoryElector candidate) {
        Race race = races.computeIfAbsent(candidate.service(), s -> new Race());
        race.candidates.add(candidate);
        settle(race);
    }

    synchronized void leave(InMemoryElector candidate) {
        Race race = races.get(candidate.service());
        if (race == null) {
            return;
        }
        race.candidates.remove(candidate);
        if (race.leader == candidate) {
            race.leader = null;
        }
        settle(race);
    }

    /** Elects the longest-waiting candidate when the seat is empty, and tells everyone. */
    private void settle(Race race) {
        if (race.leader == null && !race.candidates.isEmpty()) {
            race.leader = race.candidates.get(0);
            race.epoch++;
        }
        for (InMemoryElector candidate : race.candidates) {
            candidate.update(race.leader == candidate, race.epoch, race.leader == null ? null : race.leader.nodeId());
        }
    }
}
