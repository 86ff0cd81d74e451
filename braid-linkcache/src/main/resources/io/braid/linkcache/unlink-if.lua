-- Compare-and-delete: removes the token's link in a service only if it points at the given node,
-- and publishes the invalidation in the same script.
-- KEYS[1] braid:{ls:K}:tok:T, KEYS[2] braid:{ls:K}:node:N; ARGV[1] service, ARGV[2] node id, ARGV[3] token,
-- ARGV[4] the invalidation channel, ARGV[5] the invalidation message.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  return 1
end
return 0
