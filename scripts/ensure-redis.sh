#!/usr/bin/env bash
# Makes sure a Redis answers on GCBULK_REDIS_URL (default redis://127.0.0.1:6379).
# Uses the one that answers; otherwise starts a throwaway redis-server on that port, installing it with apt
# where it is missing and that is possible. Prints the PID file of a server it started on stdout's last line
# (empty when it started none), so a caller can stop it again.
set -euo pipefail
url="${GCBULK_REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"
[ "$port" = "$hostport" ] && port=6379

if command -v redis-cli >/dev/null 2>&1 && redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG; then
  echo "redis: using the server answering on $host:$port" >&2
  echo ""
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "redis: installing redis-server with apt-get" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >&2
  else
    echo "redis: no server answers on $host:$port and redis-server is not installed; install it (e.g. 'sudo apt-get install redis-server') or set GCBULK_REDIS_URL" >&2
    exit 69
  fi
fi
dir="$(mktemp -d /tmp/gcbulk-redis.XXXXXX)"
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null
echo "redis: started a throwaway server on 127.0.0.1:$port ($dir)" >&2
echo "$dir/redis.pid"
