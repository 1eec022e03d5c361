-- Reads a sealed value and its time left in one step. KEYS[1] the value.
-- Returns {value, pttl ms} or nil.
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('PTTL', KEYS[1])}
