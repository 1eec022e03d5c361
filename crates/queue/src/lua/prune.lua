-- Forget consumers of crashed workers: no pending job and not seen for a long time. (A live worker
-- reads at least every block time, and a deleted consumer is recreated by its next read anyway.)
-- KEYS: 1 jobs
-- ARGV: 1 group, 2 minimum idle ms
-- Returns how many were removed.
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return 0 end
local removed = 0
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if tonumber(info['pending']) == 0 and tonumber(info['idle']) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
