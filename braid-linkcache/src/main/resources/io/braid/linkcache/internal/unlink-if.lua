-- Compare-and-delete: removes the token's link in a service only if it points at the given node,
-- and publishes the invalidation (with the removed link's epoch) in the same script.
-- KEYS[1] braid:{ls:K}:b:J, KEYS[2] braid:{ls:K}:count; ARGV[1] the link's field (token NUL service),
-- ARGV[2] node id, ARGV[3] the invalidation channel, ARGV[4] the invalidation message up to the epoch.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  local owner, epoch = split_link(value)
  if owner == ARGV[2] then
    redis.call('HDEL', KEYS[1], ARGV[1])
    counted(KEYS[2], owner, -1)
    redis.call('PUBLISH', ARGV[3], ARGV[4] .. epoch)
    return 1
  end
end
return 0
