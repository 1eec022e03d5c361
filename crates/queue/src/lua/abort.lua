-- Drop a staged batch owned by this writer.
-- KEYS: 1 meta, 2 chunks
-- ARGV: 1 writer token
if redis.call('HGET', KEYS[1], 'state') == 'staging'
  and redis.call('HGET', KEYS[1], 'writer') == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
