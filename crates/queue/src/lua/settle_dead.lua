-- Give up on a job (its items were dead-lettered just before): remove it and keep a record.
-- KEYS: 1 jobs, 2 chunks, 3 dead-jobs
-- ARGV: 1 group, 2 consumer, 3 entry id, 4 batch, 5 chunk, 6 n, 7 attempt, 8 reason,
--       9 payload to keep ('' when every item got its dead letter), 10 dead-jobs max length
-- Returns 1, or 0 when the job is no longer this consumer's.
-- Reads Redis's clock (TIME) before writing: needs effects replication (default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2]) == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[10], '*', 'batch', ARGV[4], 'chunk', ARGV[5],
  'n', ARGV[6], 'attempt', ARGV[7], 'reason', ARGV[8], 'at', now, 'payload', ARGV[9])
return 1
