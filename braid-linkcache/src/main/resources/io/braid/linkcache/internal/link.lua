-- First writer wins. KEYS[1] braid:{ls:K}:b:J (the token's bucket: token NUL service -> owner NUL epoch),
-- KEYS[2] braid:{ls:K}:count (links per owner), KEYS[3] braid:{ls:K}:epoch (the shard's epoch counter);
-- ARGV[1] the link's field (token NUL service), ARGV[2] candidate node id, ARGV[3] the invalidation
-- channel, ARGV[4] the invalidation message up to the epoch (the epoch, NUL and the owner are appended).
-- Returns {owner id, epoch}. A new link publishes an invalidation too: a near cache may still hold an
-- owner for the token that Redis has lost (FLUSHALL, a failover that lost writes).
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  local owner, epoch = split_link(value)
  return {owner, epoch}
end
local epoch = next_epoch(KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '\0' .. epoch)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('PUBLISH', ARGV[3], ARGV[4] .. epoch .. '\0' .. ARGV[2])
return {ARGV[2], epoch}
