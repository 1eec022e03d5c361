-- A job is to run again later: move it from the stream to the delayed set, if this consumer still owns it.
-- KEYS: 1 jobs, 2 delayed, 3 retrying
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 delay ms, 5 batch, 6 chunk, 7 n, 8 attempt, 9 throttled
-- Returns 1, or 0 when the job is no longer this consumer's (its lease was lost).
-- Reads Redis's clock (TIME) before writing: needs effects replication (default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2]) == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = table.concat({ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]}, '|')
if redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), member) == 1 then
  redis.call('HINCRBY', KEYS[3], ARGV[5], ARGV[7])
end
return 1
