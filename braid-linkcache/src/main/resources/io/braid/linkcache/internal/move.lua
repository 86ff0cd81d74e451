-- Compare-and-set: moves the token's link in a service to another node only if it still points at the
-- expected node under the expected epoch, and publishes the invalidation in the same script.
-- KEYS[1] braid:{ls:K}:tok:T, KEYS[2] braid:{ls:K}:node:TO, KEYS[3] braid:{ls:K}:epoch; ARGV[1] service,
-- ARGV[2] expected node id, ARGV[3] expected epoch, ARGV[4] new node id, ARGV[5] token, ARGV[6] the shard
-- prefix, ARGV[7] the invalidation channel, ARGV[8] the invalidation message up to the epoch.
-- Returns {owner id, epoch} of the link now in place, or an empty list when it was not the expected one.
local owner = redis.call('HGET', KEYS[1], ARGV[1])
local epoch = redis.call('HGET', KEYS[1], EPOCH_FIELD_PREFIX .. ARGV[1]) or '0'
if owner ~= ARGV[2] or epoch ~= ARGV[3] then
  return {}
end
if owner == ARGV[4] then
  return {owner, epoch}
end
redis.call('SREM', ARGV[6] .. ':node:' .. owner, ARGV[5])
epoch = next_epoch(KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4], EPOCH_FIELD_PREFIX .. ARGV[1], epoch)
redis.call('SADD', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[7], ARGV[8] .. epoch .. '\0' .. ARGV[4])
return {ARGV[4], epoch}
