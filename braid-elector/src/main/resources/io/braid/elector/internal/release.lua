-- Gives up the leadership if (and only if) this node still holds it in this epoch.
-- KEYS[1] braid:{elect:S}:leader; ARGV[1] "id|epoch"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
