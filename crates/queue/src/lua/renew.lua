-- Renew the leases of jobs this consumer holds (reset their idle time) so no one takes them over.
-- KEYS: 1 jobs
-- ARGV: 1 group, 2 consumer, 3.. entry ids
-- Returns the ids that are no longer this consumer's (taken over, or settled elsewhere).
local lost = {}
for i = 3, #ARGV do
  if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2]) == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
