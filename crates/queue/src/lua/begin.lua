-- Start (or start over) a staging batch, unless the batch is already committed.
-- KEYS: 1 meta, 2 chunks
-- ARGV: 1 writer token, 2 staging ttl ms, 3 source, 4 format, 5 chunk_size
-- Returns {'open', items, chunks} for a committed batch, {'staging'} otherwise.
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' then
  local h = redis.call('HMGET', KEYS[1], 'items', 'chunks')
  return {'open', h[1] or '0', h[2] or '0'}
end
-- A staging batch here belongs to a crashed (or concurrent) run: start it over.
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'staging', 'writer', ARGV[1], 'source', ARGV[3],
  'format', ARGV[4], 'chunk_size', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'staging'}
