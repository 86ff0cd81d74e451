-- Acquires or renews the leadership of one service, atomically, on keys of one slot ({elect:S}).
-- KEYS[1] braid:{elect:S}:leader  "id|epoch", expiring with the lease
-- KEYS[2] braid:{elect:S}:epoch   grown for every new leader (fencing)
-- ARGV[1] candidate id, ARGV[2] lease ms, ARGV[3] the highest epoch the candidate has seen
-- The floor keeps epochs growing even when Redis lost the epoch key (restart without data).
-- Returns {status, epoch, leader id}: status 1 = became leader (new epoch), 2 = renewed, 0 = another leads.
local current = redis.call('GET', KEYS[1])
if not current then
  local epoch = redis.call('INCR', KEYS[2])
  local floor = tonumber(ARGV[3])
  if epoch <= floor then
    epoch = floor + 1
    redis.call('SET', KEYS[2], epoch)
  end
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
  return {1, epoch, ARGV[1]}
end
local sep = string.find(current, '|', 1, true)
local id = string.sub(current, 1, sep - 1)
local epoch = tonumber(string.sub(current, sep + 1))
if id == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {2, epoch, id}
end
return {0, epoch, id}
