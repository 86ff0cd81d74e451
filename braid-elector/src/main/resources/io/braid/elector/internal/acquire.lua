-- Acquires or renews the leadership of one service, atomically, on keys of one slot ({elect:S}).
-- KEYS[1] braid:{elect:S}:leader  "id|epoch", expiring with the lease
-- KEYS[2] braid:{elect:S}:epoch   the highest epoch given out (fencing); it never expires
-- ARGV[1] candidate id, ARGV[2] lease ms, ARGV[3] floor: the highest epoch the candidate has seen
-- Returns {status, epoch, leader id}:
--   2 renewed; 0 another holds the lease;
--   1 became leader: the lease key had expired or been released while the epoch key was intact,
--     so no earlier lease can still run anywhere: lead now;
--   3 became leader after data loss: the epoch key was missing or below the floor, or the lease
--     key named an epoch below the floor (written after a loss by a node that knew less). An
--     earlier lease may still run on a node that has not yet failed to renew: wait one lease.
-- Every call restores the floor in the epoch key, so epochs keep growing after Redis lost its data.
local floor = tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[2])
local highest = tonumber(stored or '0')
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  local id = string.sub(current, 1, sep - 1)
  local epoch = tonumber(string.sub(current, sep + 1))
  if epoch >= floor then
    if highest < epoch then
      redis.call('SET', KEYS[2], string.format('%d', epoch))
    end
    if id == ARGV[1] then
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return {2, epoch, id}
    end
    return {0, epoch, id}
  end
end
local lost = current ~= false or stored == false or highest < floor
local epoch = math.max(highest, floor) + 1
redis.call('SET', KEYS[2], string.format('%d', epoch))
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%d', epoch), 'PX', ARGV[2])
if lost then
  return {3, epoch, ARGV[1]}
end
return {1, epoch, ARGV[1]}
