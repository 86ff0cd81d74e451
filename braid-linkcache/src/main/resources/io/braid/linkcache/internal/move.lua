-- Compare-and-set: moves the token's link in a service to another node only if it still points at the
-- expected node under the expected epoch, and publishes the invalidation in the same script.
-- KEYS[1] braid:{ls:K}:b:J, KEYS[2] braid:{ls:K}:count, KEYS[3] braid:{ls:K}:epoch; ARGV[1] the link's
-- field (token NUL service), ARGV[2] expected node id, ARGV[3] expected epoch, ARGV[4] new node id,
-- ARGV[5] the invalidation channel, ARGV[6] the invalidation message up to the epoch.
-- Returns {owner id, epoch} of the link now in place, or an empty list when it was not the expected one.
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then
  return {}
end
local owner, epoch = split_link(value)
if owner ~= ARGV[2] or epoch ~= ARGV[3] then
  return {}
end
if owner == ARGV[4] then
  return {owner, epoch}
end
counted(KEYS[2], owner, -1)
epoch = next_epoch(KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4] .. '\0' .. epoch)
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
redis.call('PUBLISH', ARGV[5], ARGV[6] .. epoch .. '\0' .. ARGV[4])
return {ARGV[4], epoch}
