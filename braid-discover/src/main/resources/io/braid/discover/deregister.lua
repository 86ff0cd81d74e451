-- Removes one node at once (graceful leave).
-- KEYS[1] braid:{svc:S}:nodes, KEYS[2] braid:{svc:S}:node:ID; ARGV[1] node id
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
