-- Prepended to every player store script. A snapshot's epoch is kept beside it in the token's snapshot
-- hash, in the field EPOCH_FIELD_PREFIX .. service (a link's epoch is in its bucket field's value, after
-- the owner and a NUL). above(a, b) tells whether epoch a is
-- above epoch b, both decimal strings without leading zeros (as braid writes them): compared as text,
-- length first, so every long compares exactly (Lua's numbers lose integers above 2^53).
local EPOCH_FIELD_PREFIX = 'epoch\0'
local function above(a, b)
  if #a ~= #b then
    return #a > #b
  end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x > y
    end
  end
  return false
end
