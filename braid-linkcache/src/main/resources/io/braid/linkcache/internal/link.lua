-- First writer wins. KEYS[1] braid:{ls:K}:tok:T (HASH service -> node id, 'epoch\0'..service -> epoch),
-- KEYS[2] braid:{ls:K}:node:N (SET), KEYS[3] braid:{ls:K}:epoch (the shard's epoch counter);
-- ARGV[1] service, ARGV[2] candidate node id, ARGV[3] token, ARGV[4] the invalidation channel, ARGV[5] the
-- invalidation message up to the epoch (the epoch, NUL and the owner are appended).
-- Returns {owner id, epoch}. A new link publishes an invalidation too: a near cache may still hold an
-- owner for the token that Redis has lost (FLUSHALL, a failover that lost writes).
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner then
  return {owner, redis.call('HGET', KEYS[1], EPOCH_FIELD_PREFIX .. ARGV[1]) or '0'}
end
local epoch = next_epoch(KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], EPOCH_FIELD_PREFIX .. ARGV[1], epoch)
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. epoch .. '\0' .. ARGV[2])
return {ARGV[2], epoch}
