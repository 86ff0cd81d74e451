package io.braid.elector.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Elector;
import io.braid.api.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What every Elector does, run against each backend. */
abstract class ElectorContract {
    private final List<Elector> electors = new ArrayList<>();
    private final List<AutoCloseable> afterElectors = new ArrayList<>();

    protected abstract Elector newElector(String service, String nodeId);

    /** How long after the leader closes another must lead. */
    protected abstract Duration handoverBound();

    protected final Elector elector(String service, String nodeId) {
        Elector elector = newElector(service, nodeId);
        electors.add(elector);
        return elector;
    }

    protected final <T extends AutoCloseable> T closeAfterElectors(T resource) {
        afterElectors.add(resource);
        return resource;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (Elector elector : electors) {
            elector.close();
        }
        for (int i = afterElectors.size() - 1; i >= 0; i--) {
            afterElectors.get(i).close();
        }
    }

    static void await(String what, Duration within, BooleanSupplier condition) {
        io.braid.testkit.Await.until(within, what, condition);
    }

    static long leaders(List<Elector> electors) {
        return electors.stream().filter(Elector::isLeader).count();
    }

    @Test
    void exactlyOneOfThreeLeadsAndAllAgreeOnWhoAndTheEpoch() throws Exception {
        List<Elector> three = List.of(elector("logic", "a"), elector("logic", "b"), elector("logic", "c"));

        await("one leader, two followers", Duration.ofSeconds(5), () -> leaders(three) == 1
                && three.stream().filter(e -> e.role() == Role.FOLLOWER).count() == 2
                && three.stream().map(Elector::leader).distinct().count() == 1
                && three.stream().map(Elector::epoch).distinct().count() == 1);

        Elector leader = three.stream().filter(Elector::isLeader).findFirst().orElseThrow();
        assertThat(three.get(0).leader()).isPresent();
        assertThat(leader.epoch()).isPositive();
        assertThat(leader.service()).isEqualTo("logic");
    }

    @Test
    void closingTheLeaderHandsOverWithAHigherEpoch() throws Exception {
        List<Elector> two = List.of(elector("logic", "a"), elector("logic", "b"));
        await("a leader", Duration.ofSeconds(5), () -> leaders(two) == 1);
        Elector leader = two.stream().filter(Elector::isLeader).findFirst().orElseThrow();
        Elector other = two.stream().filter(e -> e != leader).findFirst().orElseThrow();
        long firstEpoch = leader.epoch();
        List<Role> otherRoles = new CopyOnWriteArrayList<>();
        other.onChange(otherRoles::add);

        long start = System.nanoTime();
        leader.close();

        await("the other leads", handoverBound(), other::isLeader);
        System.out.printf("%s: handover after close in %.1f ms%n", getClass().getSimpleName(),
                (System.nanoTime() - start) / 1e6);
        assertThat(leader.role()).isEqualTo(Role.WAIT);
        assertThat(other.epoch()).isGreaterThan(firstEpoch);
        await("listener told", Duration.ofSeconds(1), () -> otherRoles.contains(Role.LEADER));
        assertThat(otherRoles).endsWith(Role.LEADER).containsOnlyOnce(Role.LEADER);
    }

    @Test
    void listenersHearEachRealChangeOnce() throws Exception {
        Elector only = elector("solo", "a");
        List<Role> roles = new CopyOnWriteArrayList<>();
        only.onChange(roles::add);

        await("leads", Duration.ofSeconds(5), only::isLeader);
        await("told", Duration.ofSeconds(1), () -> roles.contains(Role.LEADER));
        only.close();

        assertThat(roles).containsExactly(Role.LEADER, Role.WAIT);
    }

    @Test
    void aLateListenerHearsAtOnceThatItsElectorLeads() throws Exception {
        Elector only = elector("late", "a");
        await("leads", Duration.ofSeconds(5), only::isLeader);
        await("announced", Duration.ofSeconds(1), () -> {
            List<Role> probe = new CopyOnWriteArrayList<>();
            only.onChange(probe::add).close();
            return probe.contains(Role.LEADER);
        });

        List<Role> roles = new CopyOnWriteArrayList<>();
        only.onChange(roles::add);

        assertThat(roles).containsExactly(Role.LEADER);
    }

    @Test
    void servicesElectSeparately() throws Exception {
        Elector logic = elector("logic", "a");
        Elector gate = elector("gate", "a");

        await("both lead their own service", Duration.ofSeconds(5), () -> logic.isLeader() && gate.isLeader());
    }
}
