package io.braid.elector.internal;

import io.braid.api.Role;
import io.braid.redis.RedisConnector;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM taking part in an election, so a test can freeze it (SIGSTOP) or kill it (-9).
 * Prints {@code L <epoch> <wallMillis>} each time it checks and believes it leads, and
 * {@code R <role> <wallMillis>} on every role change. Args: redis uri, service, node id, lease ms.
 */
public final class ElectorProcess {
    private ElectorProcess() {
    }

    public static void main(String[] args) throws Exception {
        RedisConnector redis = RedisConnector.connect(args[0]);
        Duration lease = Duration.ofMillis(Long.parseLong(args[3]));
        RedisElector elector = RedisElector.builder(redis).service(args[1]).nodeId(args[2]).lease(lease).build();
        elector.onChange(role -> System.out.println("R " + role + " " + System.currentTimeMillis()));
        System.out.println("STARTED");
        while (true) {
            long now = System.currentTimeMillis();
            if (elector.role() == Role.LEADER) {
                System.out.println("L " + elector.epoch() + " " + now);
            }
            TimeUnit.MILLISECONDS.sleep(1);
        }
    }
}
