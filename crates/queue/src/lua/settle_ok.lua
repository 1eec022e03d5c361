-- A job succeeded: acknowledge it, delete it and its payload, provided every item has an outcome.
-- KEYS: 1 jobs, 2 chunks, 3 outcomes
-- ARGV: 1 group, 2 entry id, 3 chunk key, 4.. item lines
-- Returns 1 (settled), 0 (already settled by someone else), or -N (N items have no outcome: not settled).
local missing = 0
for i = 4, #ARGV do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 0 then missing = missing + 1 end
end
if missing > 0 then return -missing end
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
-- If another consumer settled it first it may have rescheduled the chunk: keep the payload then.
if acked == 1 then redis.call('HDEL', KEYS[2], ARGV[3]) end
return acked
