-- Deletes KEYS[1] only while it still holds ARGV[1] (a sealed value, or a lock token).
-- Returns 1 when deleted.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
