-- Registers or refreshes one node, atomically, on keys of one Cluster slot ({svc:S}).
-- KEYS[1] braid:{svc:S}:nodes  ZSET id -> expiry (ms, Redis clock)
-- KEYS[2] braid:{svc:S}:node:ID  HASH, the node record, expiring with the lease
-- KEYS[3] braid:{svc:S}:left:ID  "incarnation|version" of a graceful leave, for a while after it
-- KEYS[4] braid:{svc:S}:store  a random id set by the first registration the store has seen: it
--         changes only when Redis lost the service's data, which is how watchers tell a flush or an
--         empty restart from nodes leaving
-- ARGV[1] node id, ARGV[2] ttl ms, ARGV[3] incarnation (one per discover instance),
-- ARGV[4] version (grows with every change that instance makes), ARGV[5] the store id to set if none,
-- ARGV[6..] record field/value pairs
--
-- Changes are ordered by version, so a write made earlier but arriving later (a heartbeat that read
-- the record just before register() changed it) never replaces a newer one: the record is written
-- only if Redis holds none, one of another incarnation, or an older version; otherwise only its
-- lease is extended. A write older than this incarnation's leave is refused outright.
-- Returns 1 when the record already existed (a heartbeat), 0 when it was missing (a new
-- registration, or Redis lost it: restart without data, flush, failover), -1 when refused.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local version = tonumber(ARGV[4])
local left = redis.call('GET', KEYS[3])
if left then
  local sep = string.find(left, '|', 1, true)
  if sep and string.sub(left, 1, sep - 1) == ARGV[3] and tonumber(string.sub(left, sep + 1)) >= version then
    return -1
  end
end
local existed = redis.call('EXISTS', KEYS[2])
local kept = false
if existed == 1 then
  local held = redis.call('HMGET', KEYS[2], 'incarnation', 'version')
  kept = held[1] == ARGV[3] and tonumber(held[2]) ~= nil and tonumber(held[2]) >= version
end
if not kept then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'incarnation', ARGV[3], 'version', ARGV[4], unpack(ARGV, 6))
  if left then
    redis.call('DEL', KEYS[3])
  end
end
redis.call('SET', KEYS[4], ARGV[5], 'NX')
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
return existed
