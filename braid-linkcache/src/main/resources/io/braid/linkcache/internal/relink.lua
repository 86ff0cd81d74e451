-- Overwrite on purpose, keeping the reverse index right, and publish the invalidation in the same
-- script, so the change is never made without it being sent.
-- KEYS[1] braid:{ls:K}:tok:T, KEYS[2] braid:{ls:K}:node:NEW, KEYS[3] braid:{ls:K}:epoch; ARGV[1] service,
-- ARGV[2] new id, ARGV[3] token, ARGV[4] the shard prefix braid:{ls:K} (the old owner's set shares the
-- slot), ARGV[5] the invalidation channel, ARGV[6] the invalidation message up to the epoch.
-- Returns {owner id, epoch}: unchanged when the token already was on the new node.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == ARGV[2] then
  return {old, redis.call('HGET', KEYS[1], EPOCH_FIELD_PREFIX .. ARGV[1]) or '0'}
end
if old then
  redis.call('SREM', ARGV[4] .. ':node:' .. old, ARGV[3])
end
local epoch = next_epoch(KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], EPOCH_FIELD_PREFIX .. ARGV[1], epoch)
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6] .. epoch .. '\0' .. ARGV[2])
return {ARGV[2], epoch}
