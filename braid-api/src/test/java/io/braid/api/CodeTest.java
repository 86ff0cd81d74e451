package io.braid.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CodeTest {

    @ParameterizedTest
    @EnumSource(Code.class)
    void every_code_round_trips_through_its_wire_value(Code code) {
        assertThat(Code.forValue(code.value())).isSameAs(code);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, -2, Integer.MIN_VALUE, 11, 12, 1_000, Integer.MAX_VALUE})
    void a_number_this_version_does_not_know_is_unknown(int value) {
        assertThat(Code.forValue(value)).isSameAs(Code.UNKNOWN);
    }

    @Test
    void wire_values_are_unique() {
        assertThat(Arrays.stream(Code.values()).map(Code::value)).doesNotHaveDuplicates();
    }

    @Test
    void wire_values_are_the_published_contract() {
        // These numbers cross the wire to other versions: changing one is a protocol break.
        Map<Code, Integer> contract = new LinkedHashMap<>();
        contract.put(Code.OK, 0);
        contract.put(Code.CANCELLED, 1);
        contract.put(Code.UNKNOWN, 2);
        contract.put(Code.INVALID_ARGUMENT, 3);
        contract.put(Code.DEADLINE_EXCEEDED, 4);
        contract.put(Code.NOT_FOUND, 5);
        contract.put(Code.RESOURCE_EXHAUSTED, 6);
        contract.put(Code.FAILED_PRECONDITION, 7);
        contract.put(Code.UNAVAILABLE, 8);
        contract.put(Code.INTERNAL, 9);
        contract.put(Code.UNAUTHENTICATED, 10);

        assertThat(contract.keySet()).as("a new code needs its number pinned here").containsExactly(Code.values());
        contract.forEach((code, value) -> assertThat(code.value()).as(code.name()).isEqualTo(value));
    }
}
