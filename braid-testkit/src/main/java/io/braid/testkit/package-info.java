/**
 * Test helpers that run real {@code redis-server} processes, so every Redis-backed test in braid
 * talks to a Redis it started itself (never a shared one on 6379).
 *
 * <ul>
 *   <li>{@link io.braid.testkit.RedisServer}: one server on a free loopback port that a test can
 *       stop, kill with SIGKILL, restart on the same port (with its data when append-only) and
 *       pause with SIGSTOP.</li>
 *   <li>{@link io.braid.testkit.RedisCluster}: a Redis Cluster of such servers, optionally with
 *       replicas.</li>
 *   <li>{@link io.braid.testkit.RedisSentinel}: a master, its replica and three Sentinels watching
 *       them, failed over on demand ({@code SENTINEL FAILOVER}) or by killing the master.</li>
 *   <li>{@link io.braid.testkit.RedisProbe}: a tiny blocking client to look at a server without
 *       going through the code under test.</li>
 *   <li>{@link io.braid.testkit.RedisExtension}: the JUnit 5 extension that starts and closes them
 *       around a test class.</li>
 * </ul>
 *
 * <p>{@code redis-server} must be on the PATH; if it is not, starting fails with a message that
 * says how to install it. A JVM shutdown hook kills any server still running when the JVM exits.
 */
package io.braid.testkit;
