-- Removes, in a range of one shard's buckets, every link of a service that still points at a node
-- (compare-and-delete), and takes them off the node's count. Called for each range of each shard:
-- a script visits at most the buckets Java gives it, so Redis is blocked for one range at a time.
-- KEYS[1] braid:{ls:K}:count; ARGV[1] service, ARGV[2] node id, ARGV[3] shard prefix braid:{ls:K} (its
-- buckets share the slot), ARGV[4] first bucket, ARGV[5] bucket after the last. Returns the count removed.
local suffix = '\0' .. ARGV[1]
local owned = ARGV[2] .. '\0'
local removed = 0
for j = tonumber(ARGV[4]), tonumber(ARGV[5]) - 1 do
  local key = ARGV[3] .. ':b:' .. j
  local all = redis.call('HGETALL', key)
  local gone = {}
  for i = 2, #all, 2 do
    local value = all[i]
    if (value == ARGV[2] or string.sub(value, 1, #owned) == owned)
        and string.sub(all[i - 1], -#suffix) == suffix then
      gone[#gone + 1] = all[i - 1]
      if #gone == 1000 then -- unpack's bound on a bucket turned hashtable
        redis.call('HDEL', key, unpack(gone))
        removed = removed + #gone
        gone = {}
      end
    end
  end
  if #gone > 0 then
    redis.call('HDEL', key, unpack(gone))
    removed = removed + #gone
  end
end
if removed > 0 then
  counted(KEYS[1], ARGV[2], -removed)
end
return removed
