-- Give back jobs fetched but never started (worker shutdown): re-add each as a fresh entry with its
-- attempt count, so the next worker neither waits for the idle timeout nor counts an extra attempt.
-- KEYS: 1 jobs
-- ARGV: 1 group, 2 consumer, then pairs: entry id, attempt
-- Returns how many were handed back.
local n = 0
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2]) == 1 then
    local entry = redis.call('XRANGE', KEYS[1], id, id)
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
    if entry[1] then
      local f, fields = entry[1][2], {}
      for j = 1, #f, 2 do fields[f[j]] = f[j + 1] end
      redis.call('XADD', KEYS[1], '*', 'batch', fields['batch'], 'chunk', fields['chunk'],
        'n', fields['n'], 'attempt', ARGV[i + 1], 'throttled', fields['throttled'] or '0')
      n = n + 1
    end
  end
end
return n
