/**
 * The Redis plumbing that every Redis-backed module shares: Lua scripts that load once and run by
 * digest ({@code RedisScript}), Redis errors recognised by their prefix in one place
 * ({@code RedisErrors}), and the Sentinel master watch behind {@code RedisConnector}. Any module may
 * import this package.
 *
 * <p>Not an API: these types may change or go without notice. Users name only
 * {@code RedisConnector} and {@code RedisTls}.
 */
package io.braid.redis.internal;
