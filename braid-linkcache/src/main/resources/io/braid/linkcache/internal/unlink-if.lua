-- Compare-and-delete: removes the token's link in a service only if it points at the given node,
-- and publishes the invalidation (with the removed link's epoch) in the same script.
-- KEYS[1] braid:{ls:K}:tok:T, KEYS[2] braid:{ls:K}:node:N; ARGV[1] service, ARGV[2] node id, ARGV[3] token,
-- ARGV[4] the invalidation channel, ARGV[5] the invalidation message up to the epoch (appended).
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  local field = EPOCH_FIELD_PREFIX .. ARGV[1]
  local epoch = redis.call('HGET', KEYS[1], field) or '0'
  redis.call('HDEL', KEYS[1], ARGV[1], field)
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. epoch)
  return 1
end
return 0
