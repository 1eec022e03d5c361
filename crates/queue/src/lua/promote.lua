-- Move jobs whose retry time has come from the delayed set into the stream (a bounded number per call).
-- KEYS: 1 delayed, 2 jobs, 3 retrying
-- ARGV: 1 most jobs to move
-- Returns {moved, ms until the next delayed job is due (-1: none)}. Times are Redis's clock.
-- Reads Redis's clock (TIME) before writing: needs effects replication (default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local batch, chunk, n, attempt, throttled =
    string.match(member, '^([^|]+)|([^|]+)|(%d+)|(%d+)|(%d+)$')
  if batch then
    redis.call('XADD', KEYS[2], '*', 'batch', batch, 'chunk', chunk, 'n', n,
      'attempt', attempt, 'throttled', throttled)
    if redis.call('HINCRBY', KEYS[3], batch, -tonumber(n)) <= 0 then
      redis.call('HDEL', KEYS[3], batch)
    end
  end
  redis.call('ZREM', KEYS[1], member)
end
local next_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if next_due[2] then wait = math.max(0, tonumber(next_due[2]) - now) end
return {#due, wait}
