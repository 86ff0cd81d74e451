-- Removes every link of a token and publishes an invalidation for each (with the removed link's
-- epoch), in the same script.
-- KEYS[1] braid:{ls:K}:tok:T; ARGV[1] token, ARGV[2] shard prefix, ARGV[3] the invalidation channel,
-- ARGV[4] the invalidation message without the service (service, NUL and epoch are appended).
-- Returns the flat list service, node id of what was removed.
local all = redis.call('HGETALL', KEYS[1])
local epochs = {}
local removed = {}
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #EPOCH_FIELD_PREFIX) == EPOCH_FIELD_PREFIX then
    epochs[string.sub(all[i], #EPOCH_FIELD_PREFIX + 1)] = all[i + 1]
  else
    removed[#removed + 1] = all[i]
    removed[#removed + 1] = all[i + 1]
    redis.call('SREM', ARGV[2] .. ':node:' .. all[i + 1], ARGV[1])
  end
end
redis.call('DEL', KEYS[1])
for i = 1, #removed, 2 do
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. removed[i] .. '\0' .. (epochs[removed[i]] or '0'))
end
return removed
