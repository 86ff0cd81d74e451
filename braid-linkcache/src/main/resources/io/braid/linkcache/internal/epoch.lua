-- Prepended to every link script. A link is one field of its shard's bucket hash braid:{ls:K}:b:J,
-- named token NUL service and valued owner NUL epoch (a service name holds no NUL, nor an owner id
-- braid writes); split_link reads one. Each shard counts its links per owner in braid:{ls:K}:count
-- (node id -> links), which every script that adds, moves or removes a link keeps exact (counted).
-- next_epoch(key), for the scripts that give a token a new owner (link, relink, move), hands out the
-- next epoch of the shard whose counter is at key: one more than the last, and at least the Redis server's clock in microseconds
-- times two. A script takes more than a microsecond, so in practice each epoch is that clock reading
-- (one more when two changes share a microsecond), and a counter lost with the data (a restart
-- without persistence, FLUSHALL, a failover that lost writes) starts again above every epoch handed
-- out before, as long as that clock did not go back (see the README). Lua's numbers hold these
-- integers exactly (below 2^53) until the year 2112. Effects replication (the default from Redis 7)
-- lets TIME come before writes.
if redis.replicate_commands then
  redis.replicate_commands()
end

-- A link's value: its owner and its epoch. A value without NUL (written by hand) is an owner of epoch 0.
local function split_link(value)
  local cut = string.find(value, '\0', 1, true)
  if not cut then
    return value, '0'
  end
  return string.sub(value, 1, cut - 1), string.sub(value, cut + 1)
end

-- Adds delta to a node's count of links in the shard (key: braid:{ls:K}:count); the field goes at 0.
local function counted(key, node, delta)
  if redis.call('HINCRBY', key, node, delta) <= 0 then
    redis.call('HDEL', key, node)
  end
end

-- The counter is written with SET ... GET, which answers the value it replaced: the clock's reading is
-- the next epoch in practice, so a change of owner costs one command on the counter, not INCR and SET
-- (a second SET only when two changes share a microsecond, or the clock went back). Needs Redis 6.2.
local function next_epoch(key)
  local now = redis.call('TIME')
  local epoch = (tonumber(now[1]) * 1000000 + tonumber(now[2])) * 2
  local last = tonumber(redis.call('SET', key, string.format('%.0f', epoch), 'GET') or '0')
  if last >= epoch then
    epoch = last + 1
    redis.call('SET', key, string.format('%.0f', epoch))
  end
  return string.format('%.0f', epoch)
end
