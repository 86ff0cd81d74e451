-- Removes one node at once (graceful leave), and remembers the leave for a while so a heartbeat
-- sent before it but arriving after it cannot put the record back.
-- KEYS[1] braid:{svc:S}:nodes, KEYS[2] braid:{svc:S}:node:ID, KEYS[3] braid:{svc:S}:left:ID
-- ARGV[1] node id, ARGV[2] "incarnation|version" of the leave, ARGV[3] how long to remember it (ms)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
return redis.call('DEL', KEYS[2])
