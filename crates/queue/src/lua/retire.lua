-- Remove this consumer from the group at shutdown, but only if it holds no job (DELCONSUMER would
-- drop its pending entries, and with them the jobs).
-- KEYS: 1 jobs
-- ARGV: 1 group, 2 consumer
-- Returns 1 if removed.
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if not ok or #pending > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
