#!/usr/bin/env bash
# `make bench`: measured figures into docs/benchmarks.md, docs/benchmarks/results.json and one plot per rate
# scenario (docs/benchmarks/*.png). Release build, 127.0.0.1 only, under ten minutes on two cores.
#
#   scripts/bench.sh                 every scenario (issue 5), written into docs/
#   scripts/bench.sh --only 1,3      some scenarios again; the others keep their figures
#   scripts/bench.sh --quick         small sizes into a temporary directory, to debug the harness
#   scripts/bench.sh --render        no measuring: the page and plots again from docs/benchmarks/results.json
#
# The harness is bench/bench.py (Python 3 standard library; matplotlib for the plots, installed with pip when
# missing, and skipped with a note in the page when that fails). This script makes sure a Redis answers
# (scripts/ensure-redis.sh, as `make demo` does) and, whatever happens, stops every process the harness started,
# deletes the Redis keys of this run's namespaces and stops a Redis it had to start.
# Environment: GCBULK_REDIS_URL (default redis://127.0.0.1:6379, must be on 127.0.0.1), GCBULK_BIN (default
# target/release/gcbulk), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

export GCBULK_REDIS_URL="${GCBULK_REDIS_URL:-redis://127.0.0.1:6379}"
export GCBULK_BIN="${GCBULK_BIN:-$PWD/target/release/gcbulk}"
python="${PYTHON:-python3}"
die() { echo "bench: $*" >&2; exit 1; }

[ -x "$GCBULK_BIN" ] || die "$GCBULK_BIN is missing: run 'make bench' (it builds it first)"
command -v "$python" >/dev/null 2>&1 || die "$python is missing (Python 3.11 or later runs the harness)"

run_id="$(date +%H%M%S)-$$"
export BENCH_RUN_ID="$run_id"
state="$(mktemp -d /tmp/gcbulk-bench-run.XXXXXX)"
export BENCH_PID_FILE="$state/pids"
: >"$BENCH_PID_FILE"
redis_pidfile=""
harness_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$harness_pid" ] && kill -0 "$harness_pid" 2>/dev/null; then
    kill "$harness_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$harness_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$harness_pid" 2>/dev/null || true
  fi
  # The harness stops its children itself and empties this list; these are the ids it recorded, in case it
  # could not. Only a process still running our binary is killed (an id can be reused once a process is gone).
  while read -r pid; do
    [ -n "$pid" ] || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$GCBULK_BIN"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done <"$BENCH_PID_FILE"
  if command -v redis-cli >/dev/null 2>&1; then
    # Only this run's keys: every namespace of it is bench-<run_id>-<scenario>, under its hash tag.
    redis-cli --no-auth-warning -u "$GCBULK_REDIS_URL" --scan --pattern "{bench-$run_id-*" 2>/dev/null \
      | xargs -r -n 500 redis-cli --no-auth-warning -u "$GCBULK_REDIS_URL" del >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pidfile" ] && [ -f "$redis_pidfile" ]; then
    kill "$(cat "$redis_pidfile")" 2>/dev/null || true
    echo "bench: stopped the Redis it had started" >&2
  fi
  rm -rf "$state"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

redis_pidfile="$(scripts/ensure-redis.sh | tail -n 1)"

if ! "$python" -c 'import matplotlib' 2>/dev/null; then
  echo "bench: installing matplotlib for the plots (pip install --quiet matplotlib)" >&2
  "$python" -m pip install --quiet matplotlib >&2 || echo "bench: no matplotlib: the page gets its tables, no plots" >&2
fi

load="$(cut -d' ' -f1 /proc/loadavg)"
echo "bench: 1-minute load $load on $(nproc) CPUs (figures are best on an otherwise idle machine)" >&2

"$python" bench/bench.py "$@" &
harness_pid=$!
code=0
wait "$harness_pid" || code=$?
harness_pid=""
exit "$code"
