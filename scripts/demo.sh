#!/usr/bin/env bash
# `make demo`: the main job end to end on the embedded Genesys Cloud look-alike, in well under three minutes.
#
#   1. makes sure a Redis answers (scripts/ensure-redis.sh; starts a throwaway one if none does),
#   2. starts `gcbulk mock-genesys` with 3,000 seeded users on a free port of 127.0.0.1,
#   3. enqueues examples/demo-users.csv (1,500 rows: 1,490 good ones and 10 that must fail),
#   4. runs two workers sharing one fleet-wide request budget and shows live progress,
#   5. prints the batch summary and the dead letters with their reasons,
#   6. removes everything it created: processes, the demo's Redis keys, a Redis it started.
#
# Everything runs in a throwaway namespace (demo-<timestamp>-<pid>), so an existing queue on the same Redis is
# never touched. Environment: GCBULK_REDIS_URL (default redis://127.0.0.1:6379), GCBULK_BIN (default
# target/release/gcbulk), DEMO_RATE_LIMIT (requests per minute, default 1200).
set -euo pipefail
cd "$(dirname "$0")/.."

export GCBULK_REDIS_URL="${GCBULK_REDIS_URL:-redis://127.0.0.1:6379}"
bin="${GCBULK_BIN:-$PWD/target/release/gcbulk}"
input="examples/demo-users.csv"
expected_dead=10 # the failing rows of the input; see examples/README.md
# 1,500 users cost about 1,550 requests (a PATCH each, plus bulk reads, email searches and skill writes): at
# 1,200 a minute that is about 80 seconds. The look-alike enforces the same limit per OAuth client, like Genesys.
rate_limit="${DEMO_RATE_LIMIT:-1200}"
deadline_secs=170

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
die() { echo "demo: $*" >&2; exit 1; }

[ -x "$bin" ] || die "$bin is missing: run 'make demo' (it builds it first) or 'cargo build --release -p gcbulk'"
[ -f "$input" ] || die "$input is missing"

namespace="demo-$(date +%Y%m%d-%H%M%S)-$$"
export GCBULK_NAMESPACE="$namespace"
work="$(mktemp -d /tmp/gcbulk-demo.XXXXXX)"
redis_pidfile=""
pids=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if command -v redis-cli >/dev/null 2>&1; then
    # Only this demo's keys: everything gcbulk writes is under the hash tag of its namespace.
    redis-cli --no-auth-warning -u "$GCBULK_REDIS_URL" --scan --pattern "{$namespace}:*" 2>/dev/null \
      | xargs -r -n 500 redis-cli --no-auth-warning -u "$GCBULK_REDIS_URL" del >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pidfile" ] && [ -f "$redis_pidfile" ]; then
    kill "$(cat "$redis_pidfile")" 2>/dev/null || true
    echo "demo: stopped the Redis it had started" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints the last lines of a process' log, for when something went wrong.
show_log() {
  echo "---- last lines of $1 ----" >&2
  tail -n 20 "$work/$1" >&2 || true
}

say "Redis"
redis_pidfile="$(scripts/ensure-redis.sh | tail -n 1)"
echo "GCBULK_REDIS_URL=$GCBULK_REDIS_URL  namespace=$namespace"

say "Genesys Cloud look-alike: 3,000 users, $rate_limit requests a minute per OAuth client"
"$bin" mock-genesys --addr 127.0.0.1:0 --ready-file "$work/mock.addr" \
  --users 3000 --rate-limit "$rate_limit" --window 60 >"$work/mock.log" 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
addr=""
for _ in $(seq 1 300); do
  if [ -s "$work/mock.addr" ]; then
    addr="$(tr -d '[:space:]' <"$work/mock.addr")"
    [[ "$addr" =~ :[0-9]+$ ]] && break
    addr=""
  fi
  kill -0 "$mock_pid" 2>/dev/null || { show_log mock.log; die "the look-alike exited before it was listening"; }
  sleep 0.1
done
[ -n "$addr" ] || { show_log mock.log; die "the look-alike did not write its address to its ready file within 30 s"; }
case "$addr" in
  http://* | https://*) api_url="$addr" ;;
  *) api_url="http://$addr" ;;
esac
echo "listening on $api_url (API and token endpoint)"

say "Enqueue $input"
started=$SECONDS
batch="$("$bin" enqueue "$input")" || die "enqueue failed (exit $?)"
echo "batch $batch: $(($(wc -l <"$input") - 1)) rows in chunks of 50"

say "Two workers, one fleet-wide budget of $rate_limit requests a minute"
worker_pids=()
for n in 1 2; do
  # The look-alike's built-in demo credentials; they open nothing anywhere else.
  GENESYS_API_URL="$api_url" GENESYS_LOGIN_URL="$api_url" \
    GENESYS_CLIENT_ID=gcbulk-demo GENESYS_CLIENT_SECRET=gcbulk-demo-secret \
    "$bin" worker --exit-when-idle --rate-limit "$rate_limit" --concurrency 4 >"$work/worker$n.log" 2>&1 &
  pids+=("$!")
  worker_pids+=("$!")
done

"$bin" status "$batch" --watch &
watch_pid=$!
pids+=("$watch_pid")
# The watch ends when the batch is done. Stop waiting for it if every worker has exited (something went wrong)
# or the deadline passes, instead of hanging.
while kill -0 "$watch_pid" 2>/dev/null; do
  alive=0
  for pid in "${worker_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
  if [ "$alive" -eq 0 ]; then sleep 2; kill -0 "$watch_pid" 2>/dev/null && kill "$watch_pid" 2>/dev/null; break; fi
  if [ $((SECONDS - started)) -gt "$deadline_secs" ]; then kill "$watch_pid" 2>/dev/null; break; fi
  sleep 1
done
wait "$watch_pid" 2>/dev/null || true

# Workers started with --exit-when-idle leave by themselves once nothing is pending, in flight or retrying.
for n in 1 2; do
  pid="${worker_pids[$((n - 1))]}"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
  fi
  code=0
  wait "$pid" 2>/dev/null || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 143 ]; then
    show_log "worker$n.log"
    die "worker $n exited with status $code"
  fi
done
elapsed=$((SECONDS - started))

say "Batch summary"
"$bin" status "$batch"
summary="$("$bin" status "$batch" --json)"

say "Dead letters (each with the reason from the API)"
"$bin" dlq list --batch "$batch"

say "The failed rows, ready to fix and enqueue again (gcbulk dlq export --batch $batch)"
"$bin" dlq export --batch "$batch" | head -n 6

# Every item must have ended in exactly one outcome.
field() {
  if [[ "$summary" =~ \"$1\":[[:space:]]*([0-9a-z]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}
total="$(field total)"; updated="$(field updated)"; unchanged="$(field unchanged)"; dead="$(field dead)"
done_flag="$(field "done")"
say "Result"
echo "$total items in ${elapsed}s: $updated updated, $unchanged unchanged, $dead dead (the input has $expected_dead rows meant to fail)"
if [ "$done_flag" != "true" ] || [ $((updated + unchanged + dead)) -ne "$total" ]; then
  show_log worker1.log
  die "the batch did not finish: every item should have exactly one outcome"
fi
echo "demo: OK (cleaning up namespace $namespace)"
