package io.braid.bench.pekko;

import java.io.PrintStream;

/**
 * A Pekko cluster node hosting counters, in a server JVM of its own (started through
 * {@code ServerProcess.startMain}): {@code PekkoNodeMain <name> <seedPort>}, seed port 0 to start
 * the cluster. Announces its Artery port once it is Up; speaks {@link ServedJvm}'s protocol. When
 * the node leaves the cluster its actor system ends, the JVM stays until told to exit.
 */
public final class PekkoNodeMain {
    private PekkoNodeMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PekkoNodeMain <name> <seedPort|0>");
            System.exit(2);
        }
        PrintStream out = ServedJvm.takeStdout();
        PekkoMember member = PekkoMember.start(args[0], PekkoMember.ENTITY_ROLE, Integer.parseInt(args[1]));
        ServedJvm.serve(out, member.port(), member);
        System.exit(0);
    }
}
