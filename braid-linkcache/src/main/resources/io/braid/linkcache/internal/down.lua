-- Removes, in one shard, every link that still points at a node (compare-and-delete), then its set.
-- KEYS[1] braid:{ls:K}:node:N; ARGV[1] service, ARGV[2] node id, ARGV[3] shard prefix. Returns the count.
local tokens = redis.call('SMEMBERS', KEYS[1])
local removed = 0
for _, token in ipairs(tokens) do
  local key = ARGV[3] .. ':tok:' .. token
  if redis.call('HGET', key, ARGV[1]) == ARGV[2] then
    redis.call('HDEL', key, ARGV[1], EPOCH_FIELD_PREFIX .. ARGV[1])
    removed = removed + 1
  end
end
redis.call('DEL', KEYS[1])
return removed
