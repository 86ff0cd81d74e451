-- Removes every link of a token (the fields of its bucket named token NUL service) and publishes an
-- invalidation for each (with the removed link's epoch), in the same script.
-- KEYS[1] braid:{ls:K}:b:J, KEYS[2] braid:{ls:K}:count; ARGV[1] the token then NUL, ARGV[2] the
-- invalidation channel, ARGV[3] the invalidation message without the service (service, NUL and epoch
-- are appended). Returns the flat list service, node id of what was removed.
local all = redis.call('HGETALL', KEYS[1])
local prefix = ARGV[1]
local fields = {}
local removed = {}
local epochs = {}
for i = 1, #all, 2 do
  local field = all[i]
  if string.sub(field, 1, #prefix) == prefix then
    local service = string.sub(field, #prefix + 1)
    -- A service holds no NUL: a field with one more is another token's (one that holds a NUL).
    if not string.find(service, '\0', 1, true) then
      local owner, epoch = split_link(all[i + 1])
      fields[#fields + 1] = field
      removed[#removed + 1] = service
      removed[#removed + 1] = owner
      epochs[#epochs + 1] = epoch
    end
  end
end
if #fields == 0 then
  return removed
end
redis.call('HDEL', KEYS[1], unpack(fields))
for i = 1, #epochs do
  counted(KEYS[2], removed[2 * i], -1)
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. removed[2 * i - 1] .. '\0' .. epochs[i])
end
return removed
