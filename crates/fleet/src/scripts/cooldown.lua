-- Fleet cooldown: extends (never shortens) and reads a client's cooldown on the Redis clock.
--
-- KEYS[1] cooldown STRING: until (µs, Redis clock), PX = time left
-- ARGV[1] extend to at least now + this many µs ('0' = only read)
-- Returns the µs left (0 = not cooling down).

if redis.replicate_commands then pcall(redis.replicate_commands) end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local current = tonumber(redis.call('GET', KEYS[1]))
local extend = tonumber(ARGV[1])

if extend and extend > 0 then
  local until_ = now + extend
  if not current or until_ > current then
    current = until_
    redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.ceil(extend / 1000))
  end
end

if current and current > now then
  return math.ceil(current - now)
end
return 0
