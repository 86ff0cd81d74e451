-- Registers or refreshes one node, atomically, on keys of one Cluster slot ({svc:S}).
-- KEYS[1] braid:{svc:S}:nodes  ZSET id -> expiry (ms, Redis clock)
-- KEYS[2] braid:{svc:S}:node:ID  HASH, the node record, expiring with the lease
-- ARGV[1] node id, ARGV[2] ttl ms, ARGV[3..] record field/value pairs
-- Returns 1 when the record already existed (a heartbeat), 0 when it was missing (a new
-- registration, or Redis lost it: restart without data, flush, failover).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local existed = redis.call('EXISTS', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
return existed
