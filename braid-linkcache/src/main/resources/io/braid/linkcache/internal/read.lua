-- Reads a link: its owner and its epoch, together (one script, so never an owner with another link's epoch).
-- KEYS[1] braid:{ls:K}:tok:T; ARGV[1] service. Returns {owner id, epoch} ('0' when the link has no epoch
-- field: written by hand, or before epochs), or an empty list when the token has no link in the service.
-- Two HGETs rather than one HMGET: a lookup then counts in INFO commandstats under a command that only
-- the link cache uses (braid-runtime's RedisStickyRoutingContract relies on it).
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then
  return {}
end
return {owner, redis.call('HGET', KEYS[1], EPOCH_FIELD_PREFIX .. ARGV[1]) or '0'}
