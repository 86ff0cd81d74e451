-- Removes every link of a token and publishes an invalidation for each, in the same script.
-- KEYS[1] braid:{ls:K}:tok:T; ARGV[1] token, ARGV[2] shard prefix, ARGV[3] the invalidation channel,
-- ARGV[4] the invalidation message without the service (the service is appended).
-- Returns the flat list service, node id of what was removed.
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  redis.call('SREM', ARGV[2] .. ':node:' .. all[i + 1], ARGV[1])
end
redis.call('DEL', KEYS[1])
for i = 1, #all, 2 do
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. all[i])
end
return all
