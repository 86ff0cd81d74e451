-- Cuts a topic's stream below what its slowest channel still needs, deciding and cutting in one
-- step, so no acknowledgement, read or new channel can slip in between. First removes the
-- ephemeral channels whose node stopped beating (see beat.lua): they would pin the stream forever.
--
-- KEYS[1] braid:{topic:N}, KEYS[2] braid:{topic:N}:ephemeral (same slot)
-- Returns {messages removed, ephemeral channels removed}.
--
-- A channel needs its pending messages AND every message after its last-delivered id. A stream
-- without channels is left alone. Needs Redis 6.2 (XTRIM MINID); uses only XINFO GROUPS,
-- XINFO CONSUMERS, XPENDING (summary), XGROUP DESTROY, XTRIM, HGETALL/HDEL and TIME.

-- Stream ids compared exactly, as decimal strings (Lua numbers lose digits past 2^53).
local function less_number(a, b)
  if #a ~= #b then
    return #a < #b
  end
  return a < b
end

local function split(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, seq
end

local function less_id(a, b)
  local ams, aseq = split(a)
  local bms, bseq = split(b)
  if ams ~= bms then
    return less_number(ams, bms)
  end
  return less_number(aseq, bseq)
end

-- The decimal string one more than s.
local function increment(s)
  local digits = {}
  for i = 1, #s do
    digits[i] = string.byte(s, i) - 48
  end
  local i = #digits
  while i >= 1 and digits[i] == 9 do
    digits[i] = 0
    i = i - 1
  end
  if i == 0 then
    table.insert(digits, 1, 1)
  else
    digits[i] = digits[i] + 1
  end
  local out = {}
  for k = 1, #digits do
    out[k] = string.char(digits[k] + 48)
  end
  return table.concat(out)
end

-- The smallest id after id.
local function next_id(id)
  local ms, seq = split(id)
  if seq == '18446744073709551615' then
    return increment(ms) .. '-0'
  end
  return ms .. '-' .. increment(seq)
end

local function fields(flat)
  local map = {}
  for i = 1, #flat, 2 do
    map[flat[i]] = flat[i + 1]
  end
  return map
end

if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Ephemeral channels: field = channel, value = '<last beat, ms of Redis time>:<idle limit, ms>'.
local ephemeral = {}
local listed = redis.call('HGETALL', KEYS[2])
for i = 1, #listed, 2 do
  local beat, limit = string.match(listed[i + 1], '^(%d+):(%d+)$')
  if beat then
    ephemeral[listed[i]] = { beat = tonumber(beat), limit = tonumber(limit), seen = false }
  end
end

local removed_channels = 0
local keep_from = nil
for _, raw in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local group = fields(raw)
  local name = group['name']
  local gone = false
  local mark = ephemeral[name]
  if mark then
    mark.seen = true
    -- Gone: no beat within its limit AND no consumer that touched the stream within it either.
    if now - mark.beat > mark.limit then
      local idle = true
      for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], name)) do
        if fields(consumer)['idle'] <= mark.limit then
          idle = false
        end
      end
      if idle then
        redis.call('XGROUP', 'DESTROY', KEYS[1], name)
        redis.call('HDEL', KEYS[2], name)
        removed_channels = removed_channels + 1
        gone = true
      end
    end
  end
  if not gone then
    local needed = next_id(group['last-delivered-id'])
    if group['pending'] > 0 then
      local oldest = redis.call('XPENDING', KEYS[1], name)[2]
      if oldest and less_id(oldest, needed) then
        needed = oldest
      end
    end
    if keep_from == nil or less_id(needed, keep_from) then
      keep_from = needed
    end
  end
end

-- Marks of channels whose group is gone (closed between its beat and its creation, or lost with
-- Redis' data) go once they are stale, so the hash does not grow.
for name, mark in pairs(ephemeral) do
  if not mark.seen and now - mark.beat > mark.limit then
    redis.call('HDEL', KEYS[2], name)
  end
end

if keep_from == nil then
  return {0, removed_channels}
end
return {redis.call('XTRIM', KEYS[1], 'MINID', keep_from), removed_channels}
