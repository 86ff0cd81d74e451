package io.braid.gateway.client;

/**
 * What a {@link GatewayClient} counted since it was built (a snapshot; see {@link GatewayClient#stats()}).
 *
 * @param pushesReceived       pushes handed to the push listener
 * @param duplicatesSuppressed pushes received again (a number already delivered) and not handed on
 * @param gaps                 {@link ClientEvent.Type#GAP} events
 * @param pushesMissed         push numbers the gaps skipped
 * @param disconnects          dropped connections of a logged-in session
 * @param resumes              successful resumes
 * @param relogins             fresh logins after a refused resume
 */
public record ClientStats(long pushesReceived, long duplicatesSuppressed, long gaps, long pushesMissed,
                          long disconnects, long resumes, long relogins) {
}
