-- Items of delivered, unsettled jobs (the consumer group's PEL), summed per batch.
-- KEYS: 1 jobs
-- ARGV: 1 group, 2 most PEL entries to look at
-- Returns a flat list: batch, items, batch, items, …
local ok, pel = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[2]))
if not ok then return {} end -- no stream or no group yet: nothing in flight
local sums = {}
for _, p in ipairs(pel) do
  local entry = redis.call('XRANGE', KEYS[1], p[1], p[1])
  if entry[1] then
    local fields, batch, n = entry[1][2], nil, 0
    for i = 1, #fields, 2 do
      if fields[i] == 'batch' then batch = fields[i + 1]
      elseif fields[i] == 'n' then n = tonumber(fields[i + 1]) or 0 end
    end
    if batch then sums[batch] = (sums[batch] or 0) + n end
  end
end
local out = {}
for batch, n in pairs(sums) do
  out[#out + 1] = batch
  out[#out + 1] = n
end
return out
