-- Put dead-lettered items of one batch back as new chunk jobs: their DLQ entries leave, their
-- outcomes and the batch's dead counter are reset, so each item can end again.
-- KEYS: 1 meta, 2 chunks, 3 outcomes, 4 dlq, 5 first_failed, 6 jobs
-- ARGV: 1 batch id, 2 number of lines L, 3..L+2 lines, then pairs: item count n, chunk payload
-- Returns {requeued} or {-1} for an unknown batch or {-2, line} when an entry is gone
-- (requeued or purged meanwhile: the caller re-reads and tries again).
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return {-1} end
local count = tonumber(ARGV[2])
for i = 3, count + 2 do
  if redis.call('HEXISTS', KEYS[4], ARGV[i]) == 0 then return {-2, ARGV[i]} end
end
local reset = 0
for i = 3, count + 2 do
  redis.call('HDEL', KEYS[4], ARGV[i])
  if redis.call('HGET', KEYS[3], ARGV[i]) == 'dead' then
    redis.call('HDEL', KEYS[3], ARGV[i])
    reset = reset + 1
  end
end
if reset > 0 then redis.call('HINCRBY', KEYS[1], 'dead', -reset) end
for i = count + 3, #ARGV, 2 do
  local chunk = tostring(redis.call('HINCRBY', KEYS[1], 'next_chunk', 1) - 1)
  redis.call('HSET', KEYS[2], chunk, ARGV[i + 1])
  redis.call('XADD', KEYS[6], '*', 'batch', ARGV[1], 'chunk', chunk, 'n', ARGV[i],
    'attempt', '0', 'throttled', '0')
end
-- The batch has work again: it is no longer finished, and must not expire under it.
redis.call('HDEL', KEYS[1], 'finished_at')
for k = 1, 5 do redis.call('PERSIST', KEYS[k]) end
return {count}
