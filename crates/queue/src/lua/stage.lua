-- Write staged chunk payloads of a batch still owned by this writer.
-- KEYS: 1 meta, 2 chunks
-- ARGV: 1 writer token, 2 staging ttl ms, then pairs: chunk key, payload
-- Returns 1, or 0 when another run took the batch over.
if redis.call('HGET', KEYS[1], 'state') ~= 'staging'
  or redis.call('HGET', KEYS[1], 'writer') ~= ARGV[1] then
  return 0
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
