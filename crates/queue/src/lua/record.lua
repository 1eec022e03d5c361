-- Record item outcomes of one batch, each at most once (HSETNX), with counters and dead letters
-- in the same step, and finish the batch (retention TTLs) when every item has its outcome.
-- KEYS: 1 meta, 2 chunks, 3 outcomes, 4 dlq, 5 first_failed
-- ARGV: 1 retention ms, then triples: item line, outcome (updated|unchanged|dead), dead letter JSON ('' unless dead)
-- Returns {recorded, already recorded, batch finished (0|1)} or {-1} for an unknown batch.
-- Reads Redis's clock (TIME) before writing: needs effects replication (default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return {-1} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local recorded, duplicates = 0, 0
local added = {updated = 0, unchanged = 0, dead = 0}
for i = 2, #ARGV, 3 do
  local line, kind = ARGV[i], ARGV[i + 1]
  if redis.call('HSETNX', KEYS[3], line, kind) == 1 then
    recorded = recorded + 1
    added[kind] = added[kind] + 1
    if kind == 'dead' then
      redis.call('HSETNX', KEYS[5], line, now)
      redis.call('HSET', KEYS[4], line, now .. '|' .. ARGV[i + 2])
    end
  else
    duplicates = duplicates + 1
  end
end
for kind, n in pairs(added) do
  if n > 0 then redis.call('HINCRBY', KEYS[1], kind, n) end
end
local h = redis.call('HMGET', KEYS[1], 'items', 'updated', 'unchanged', 'dead', 'finished_at')
local settled = tonumber(h[2] or '0') + tonumber(h[3] or '0') + tonumber(h[4] or '0')
local finished = 0
if settled >= tonumber(h[1] or '0') then
  finished = 1
  if not h[5] then
    redis.call('HSET', KEYS[1], 'finished_at', now)
    for k = 1, 5 do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
  end
end
return {recorded, duplicates, finished}
