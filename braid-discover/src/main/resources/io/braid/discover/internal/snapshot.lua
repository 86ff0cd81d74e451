-- Reads the live nodes of one service with their operator overrides, and prunes expired ones.
-- KEYS[1] braid:{svc:S}:nodes, KEYS[2] braid:{svc:S}:store; ARGV[1] the key prefix braid:{svc:S}
-- The record and override keys share the {svc:S} hash tag, so they live in KEYS[1]'s slot.
-- Returns a flat list: pruned count, Redis time (ms), the earliest expiry among live nodes (or -1),
-- the store id (see register.lua; "" when none), then per live node: id, record (flat HGETALL),
-- override (flat HGETALL).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pruned = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local earliest = -1
if #first == 2 then
  earliest = math.floor(tonumber(first[2]))
end
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local store = redis.call('GET', KEYS[2]) or ''
local out = { pruned, now, earliest, store }
for _, id in ipairs(ids) do
  local record = redis.call('HGETALL', ARGV[1] .. ':node:' .. id)
  if #record > 0 then
    table.insert(out, id)
    table.insert(out, record)
    table.insert(out, redis.call('HGETALL', ARGV[1] .. ':override:' .. id))
  end
end
return out
