-- Overwrite on purpose, keeping the owners' counts right, and publish the invalidation in the same
-- script, so the change is never made without it being sent.
-- KEYS[1] braid:{ls:K}:b:J, KEYS[2] braid:{ls:K}:count, KEYS[3] braid:{ls:K}:epoch; ARGV[1] the link's
-- field (token NUL service), ARGV[2] new id, ARGV[3] the invalidation channel, ARGV[4] the invalidation
-- message up to the epoch.
-- Returns {owner id, epoch}: unchanged when the token already was on the new node.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  local old, epoch = split_link(value)
  if old == ARGV[2] then
    return {old, epoch}
  end
  counted(KEYS[2], old, -1)
end
local epoch = next_epoch(KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '\0' .. epoch)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('PUBLISH', ARGV[3], ARGV[4] .. epoch .. '\0' .. ARGV[2])
return {ARGV[2], epoch}
