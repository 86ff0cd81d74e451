-- Saves a player's snapshot under an epoch unless a newer owner exists (fencing), check and write in one
-- step. KEYS[1] braid:{ls:K}:b:J (the bucket of the token's links: token NUL service -> owner NUL epoch),
-- KEYS[2] braid:{ls:K}:st:T (its snapshots: HASH service -> bytes, 'epoch\0'..service -> epoch);
-- ARGV[1] service, ARGV[2] the saver's epoch, ARGV[3] the snapshot's bytes, ARGV[4] the link's field
-- (token NUL service). Returns 1 when written, 0 when refused: the token's link in the service, or the
-- saved snapshot, has an epoch above the saver's. No link (removed, or never made) refuses nothing, nor
-- does a link without an epoch (epoch 0).
local field = EPOCH_FIELD_PREFIX .. ARGV[1]
local link = redis.call('HGET', KEYS[1], ARGV[4])
if link then
  local cut = string.find(link, '\0', 1, true)
  if cut and above(string.sub(link, cut + 1), ARGV[2]) then
    return 0
  end
end
local saved = redis.call('HGET', KEYS[2], field)
if saved and above(saved, ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3], field, ARGV[2])
return 1
