-- Marks ephemeral channels as alive: their node still runs them. The leader's trim (trim.lua)
-- removes an ephemeral channel once its mark is older than its idle limit and none of its
-- consumers touched the stream within that limit either: its node crashed or was cut off.
--
-- KEYS[1] braid:{topic:N}:ephemeral
-- ARGV[1] the channels' idle limit (ms), ARGV[2..] the channels
-- Each field becomes '<now, ms of Redis time>:<idle limit, ms>'; Redis' clock, so the nodes' clocks
-- never matter. Returns how many channels were marked.
local time = redis.call('TIME')
local mark = time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000)) .. ':' .. ARGV[1]
for i = 2, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], mark)
end
return #ARGV - 1
