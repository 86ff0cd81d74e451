package io.braid.examples.bots;

import java.util.ArrayList;
import java.util.List;

/**
 * One player's clicks as the player was told them, and the check that none is lost when the
 * player moves between logic nodes: every click the player was told about must still be counted.
 *
 * <p>The rule, from the login on: after an answer that told the player its counter is {@code n},
 * with {@code k} clicks sent since whose answer never came (failed or timed out: each may or may
 * not have been counted), the next click must answer a counter in {@code n+1 .. n+1+k}, and the
 * final count (the logout's answer) must be in {@code n .. n+k}. An answer below that range lost a
 * click the player was told about (its state began anew, or an older snapshot came back); one above
 * it counted a click twice. Each such answer is one violation; the answer then becomes the new
 * {@code n}. Answers before the login are not checked.
 *
 * <p>Thread-safe (the player's own thread writes, the report reads).
 */
public final class ClickLedger {
    private static final int EXAMPLES_KEPT = 3;

    private long told = -1;
    private long unanswered;
    private long violations;
    private final List<String> examples = new ArrayList<>();

    /** The login answered {@code counter}: the count the checks start from. */
    public synchronized void loggedIn(long counter) {
        told = counter;
        unanswered = 0;
    }

    /** A click answered {@code counter}. */
    public synchronized void clicked(long counter) {
        if (told >= 0) {
            check(counter, told + 1, told + 1 + unanswered, "click");
        }
        told = counter;
        unanswered = 0;
    }

    /** A click got no answer (failed or timed out): it may or may not have been counted. */
    public synchronized void unanswered() {
        unanswered++;
    }

    /** The final count (the logout's answer) was {@code counter}. */
    public synchronized void finalCount(long counter) {
        if (told >= 0) {
            check(counter, told, told + unanswered, "final count");
        }
        told = counter;
        unanswered = 0;
    }

    /** Answers that broke the rule. */
    public synchronized long violations() {
        return violations;
    }

    /** The first few violations, in words. */
    public synchronized List<String> examples() {
        return List.copyOf(examples);
    }

    private void check(long counter, long lowest, long highest, String what) {
        if (counter >= lowest && counter <= highest) {
            return;
        }
        violations++;
        if (examples.size() < EXAMPLES_KEPT) {
            examples.add(String.format("told %d, %d unanswered since, %s answered %d (%s)", told, unanswered, what,
                    counter, counter < lowest ? "clicks lost" : "counted twice"));
        }
    }
}
