-- Moves one pending message to the dead letters, once: only if it is still pending in the group.
-- KEYS[1] braid:{topic:N}, KEYS[2] braid:{topic:N}:dead (same slot)
-- ARGV[1] group (channel), ARGV[2] message id, ARGV[3] reason, ARGV[4] deliveries
-- Returns 1 when this call moved it, 0 when another consumer already did (or it was acknowledged).
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then
  return 0
end
local entries = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #entries == 1 then
  local fields = entries[1][2]
  table.insert(fields, 'x-id')
  table.insert(fields, ARGV[2])
  table.insert(fields, 'x-channel')
  table.insert(fields, ARGV[1])
  table.insert(fields, 'x-reason')
  table.insert(fields, ARGV[3])
  table.insert(fields, 'x-deliveries')
  table.insert(fields, ARGV[4])
  redis.call('XADD', KEYS[2], '*', unpack(fields))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
