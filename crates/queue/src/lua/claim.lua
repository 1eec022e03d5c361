-- Take over jobs delivered to some consumer that has not settled or renewed them for min-idle ms.
-- KEYS: 1 jobs
-- ARGV: 1 group, 2 consumer, 3 min idle ms, 4 cursor, 5 count
-- Returns {next cursor, {{id, fields, delivery count}, …}}.
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {}
for _, entry in ipairs(r[2]) do
  -- Redis 6.2 reports entries deleted meanwhile as nil; 7.x leaves them out.
  if type(entry) == 'table' then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
    local deliveries = 1
    if p[1] then deliveries = p[1][4] end
    out[#out + 1] = {entry[1], entry[2], deliveries}
  end
end
return {r[1], out}
