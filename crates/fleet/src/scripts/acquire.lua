-- Fleet request budget: GCRA on the Redis clock, with cooldown and adaptive cap, in one call.
--
-- KEYS[1] budget HASH: tat (µs), max_allowed, allowed, window_us
-- KEYS[2] cooldown STRING: until (µs, Redis clock), PX = time left
-- ARGV[1] '1' = take a slot, '0' = only fold the observation in
-- ARGV[2] configured requests per minute   ARGV[3] headroom (0, 1]   ARGV[4] burst (>= 1)
-- ARGV[5] observed allowed  ARGV[6] observed count  ARGV[7] observed reset (µs)
-- ARGV[8] observed window (µs)        ('' = not observed)
-- ARGV[9] retention (ms) of the budget state after its last reservation
--
-- Returns {code, µs, max_allowed, allowed, interval µs}:
--   code 0 = go now, 1 = slot reserved µs from now, 2 = cooling down for µs more.

-- TIME makes the script non-deterministic: Redis >= 5 replicates effects by default, older
-- servers need this call (newer ones accept it as a no-op).
if redis.replicate_commands then pcall(redis.replicate_commands) end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local take = ARGV[1] == '1'
local per_minute = tonumber(ARGV[2])
local headroom = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local obs_allowed = tonumber(ARGV[5])
local obs_count = tonumber(ARGV[6])
local obs_reset = tonumber(ARGV[7])
local obs_window = tonumber(ARGV[8])
local retention = tonumber(ARGV[9])

local state = redis.call('HMGET', KEYS[1], 'tat', 'max_allowed', 'allowed', 'window_us')
local tat = tonumber(state[1])
local max_allowed = tonumber(state[2])
local allowed = tonumber(state[3])
local window = tonumber(state[4])

local changed = {}
if obs_allowed and obs_allowed > 0 then
  allowed = obs_allowed
  table.insert(changed, 'allowed')
  table.insert(changed, string.format('%.0f', allowed))
  if not max_allowed or obs_allowed > max_allowed then
    max_allowed = obs_allowed
    table.insert(changed, 'max_allowed')
    table.insert(changed, string.format('%.0f', max_allowed))
  end
end
if obs_window and obs_window > 0 then
  window = obs_window
  table.insert(changed, 'window_us')
  table.insert(changed, string.format('%.0f', window))
end

local cooldown_until = tonumber(redis.call('GET', KEYS[2]))

-- The server's window is spent: nobody sends before it resets.
local limit = obs_allowed or allowed
if obs_count and limit and obs_reset and obs_reset > 0 and obs_count >= limit then
  local until_ = now + obs_reset
  if not cooldown_until or until_ > cooldown_until then
    cooldown_until = until_
    redis.call('SET', KEYS[2], string.format('%.0f', until_), 'PX', math.ceil(obs_reset / 1000))
  end
end

local function save(new_tat)
  if new_tat then
    table.insert(changed, 'tat')
    table.insert(changed, string.format('%.0f', new_tat))
  end
  if #changed > 0 then
    redis.call('HSET', KEYS[1], unpack(changed))
  end
  if #changed > 0 or redis.call('EXISTS', KEYS[1]) == 1 then
    local ahead = 0
    local last = new_tat or tat
    if last and last > now then ahead = last - now end
    redis.call('PEXPIRE', KEYS[1], math.ceil(ahead / 1000) + retention)
  end
end

-- Grants per µs: the configured rate less headroom, scaled down while the server reports a lower
-- limit than the highest it reported, and never above what it reported per window.
local rate = per_minute * headroom / 60000000
if allowed and max_allowed and allowed < max_allowed then
  rate = rate * allowed / max_allowed
end
if allowed and window then
  local per_window = allowed * headroom / window
  if per_window < rate then rate = per_window end
end
local interval = 1 / rate

local function reply(code, us)
  return {code, math.ceil(us), max_allowed or 0, allowed or 0, math.ceil(interval)}
end

if cooldown_until and cooldown_until > now then
  save(nil)
  return reply(2, cooldown_until - now)
end
if not take then
  save(nil)
  return reply(0, 0)
end

-- GCRA, reservation style: the slot is taken now for the caller, who sends at allow_at.
if not tat or tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
save(math.ceil(tat + interval))
if allow_at <= now then
  return reply(0, 0)
end
return reply(1, allow_at - now)
