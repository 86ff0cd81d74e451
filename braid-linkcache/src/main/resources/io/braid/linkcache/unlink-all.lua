-- Removes every link of a token. KEYS[1] braid:{ls:K}:tok:T; ARGV[1] token, ARGV[2] shard prefix.
-- Returns the flat list service, node id of what was removed.
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  redis.call('SREM', ARGV[2] .. ':node:' .. all[i + 1], ARGV[1])
end
redis.call('DEL', KEYS[1])
return all
