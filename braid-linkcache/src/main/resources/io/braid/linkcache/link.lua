-- First writer wins. KEYS[1] braid:{ls:K}:tok:T (HASH service -> node id), KEYS[2] braid:{ls:K}:node:N (SET)
-- ARGV[1] service, ARGV[2] candidate node id, ARGV[3] token. Returns the owner's id.
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner then
  return owner
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return ARGV[2]
