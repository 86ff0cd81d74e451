-- Deletes a player's snapshot if it was saved under an epoch at most the deleter's, in one step.
-- KEYS[1] braid:{ls:K}:st:T; ARGV[1] service, ARGV[2] the deleter's epoch. Returns 1 when deleted, 0 when
-- there was none or it was saved under a higher epoch (a newer owner's). A snapshot without an epoch
-- field (written by hand) counts as epoch 0. Redis removes the hash with its last field.
local field = EPOCH_FIELD_PREFIX .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local saved = redis.call('HGET', KEYS[1], field) or '0'
if above(saved, ARGV[2]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1], field)
return 1
