-- First writer wins. KEYS[1] braid:{ls:K}:tok:T (HASH service -> node id), KEYS[2] braid:{ls:K}:node:N (SET)
-- ARGV[1] service, ARGV[2] candidate node id, ARGV[3] token, ARGV[4] the invalidation channel, ARGV[5] the
-- invalidation message. Returns the owner's id. A new link publishes an invalidation too: a near cache
-- may still hold an owner for the token that Redis has lost (FLUSHALL, a failover that lost writes).
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner then
  return owner
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return ARGV[2]
