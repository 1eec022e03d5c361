-- Open a staged batch: from here on workers see it. One job reference per chunk goes into the stream.
-- KEYS: 1 meta, 2 chunks, 3 outcomes, 4 dlq, 5 first_failed, 6 jobs, 7 batches
-- ARGV: 1 writer token, 2 batch id, 3 items, 4 chunks, 5 retention ms,
--       then run-length pairs (item count n, number of consecutive chunks with n items)
-- Returns {'open', created_at} or {'superseded'} or {'mismatch', staged chunk count}.
-- Reads Redis's clock (TIME) before writing: needs effects replication (default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
local h = redis.call('HMGET', KEYS[1], 'state', 'writer', 'created_at')
if h[2] ~= ARGV[1] then return {'superseded'} end
if h[1] == 'open' then return {'open', h[3]} end -- a retried commit whose reply was lost
if h[1] ~= 'staging' then return {'superseded'} end
local nchunks = tonumber(ARGV[4])
local staged = redis.call('HLEN', KEYS[2])
if staged ~= nchunks then return {'mismatch', staged} end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'state', 'open', 'created_at', now, 'items', ARGV[3],
  'chunks', nchunks, 'next_chunk', nchunks, 'updated', 0, 'unchanged', 0, 'dead', 0)
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('ZADD', KEYS[7], now, ARGV[2])

local c = 0
for i = 6, #ARGV, 2 do
  local n = ARGV[i]
  for _ = 1, tonumber(ARGV[i + 1]) do
    redis.call('XADD', KEYS[6], '*', 'batch', ARGV[2], 'chunk', tostring(c), 'n', n,
      'attempt', '0', 'throttled', '0')
    c = c + 1
  end
end

if tonumber(ARGV[3]) == 0 then
  -- Nothing to do: the batch is finished the moment it opens.
  redis.call('HSET', KEYS[1], 'finished_at', now)
  for k = 1, 5 do redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
end
return {'open', tostring(now)}
