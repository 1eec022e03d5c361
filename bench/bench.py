"""`make bench`: runs the scenarios of issue 5 against the release binary on 127.0.0.1 and writes
docs/benchmarks.md, docs/benchmarks/results.json and the plots.

    python3 bench/bench.py [--quick] [--only 1,3] [--out DIR] [--render]

--only re-measures some scenarios and keeps the others' figures from DIR/benchmarks/results.json (each section of
the page says when and on which commit it was measured). --quick uses small sizes to debug the harness and writes
to a temporary directory unless --out is given. --render measures nothing and writes the page and plots again
from results.json (after a change to the page's layout). Run it through scripts/bench.sh, which makes sure Redis is up and
stops every process if this one dies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
from lib import BenchError, Procs, Redis, git, load1, machine  # noqa: E402
from scenarios import SCENARIOS, Ctx, Sizes, say  # noqa: E402


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, to debug the harness")
    ap.add_argument("--only", default="", help="comma-separated scenario numbers (1-6); default all")
    ap.add_argument("--out", type=Path, help="directory for benchmarks.md and benchmarks/ (default docs/)")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary directory (logs, inputs)")
    ap.add_argument("--render", action="store_true",
                    help="measure nothing: write the page and plots again from DIR/benchmarks/results.json")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    selected = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = [s for s in selected if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; choose from 1-6")
    out = args.out or (Path(tempfile.mkdtemp(prefix="gcbulk-bench-quick.")) if args.quick else repo / "docs")
    (out / "benchmarks").mkdir(parents=True, exist_ok=True)

    if args.render:
        saved = json.loads((out / "benchmarks" / "results.json").read_text())
        plots = report.plots(saved["scenarios"], out / "benchmarks")
        (out / "benchmarks.md").write_text(report.markdown(saved["meta"], saved["scenarios"], plots))
        print(f"bench: {out / 'benchmarks.md'} written again from results.json")
        return 0

    binary = os.environ.get("GCBULK_BIN", str(repo / "target/release/gcbulk"))
    if not os.access(binary, os.X_OK):
        print(f"bench: {binary} is missing: run 'make bench' (it builds it first)", file=sys.stderr)
        return 1
    redis_url = os.environ.get("GCBULK_REDIS_URL", "redis://127.0.0.1:6379")
    work = Path(tempfile.mkdtemp(prefix="gcbulk-bench."))
    run_id = os.environ.get("BENCH_RUN_ID") or f"{datetime.now():%H%M%S}-{os.getpid()}"
    procs = Procs(Path(os.environ.get("BENCH_PID_FILE", work / "pids")))
    try:
        redis = Redis(redis_url)
        ctx = Ctx(bin=binary, redis_url=redis_url, work=work, run_id=run_id, procs=procs, redis=redis,
                  sizes=Sizes.quick() if args.quick else Sizes())
        dirty = git("status", "--porcelain", "--", "crates", "Cargo.toml", "Cargo.lock")
        measured = {
            "commit": git("rev-parse", "--short", "HEAD") or "unknown",
            "dirty": bool(dirty),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": args.quick,
        }
        meta = measured | {
            "machine": machine(),
            "redis_version": redis.info("server").get("redis_version", "?"),
            "rustc": _rustc(),
            "load_start": list(map(lambda x: round(x, 2), os.getloadavg())),
        }
        say(f"commit {meta['commit']}{' (+ uncommitted changes)' if dirty else ''}, "
            f"{meta['machine']['nproc']} CPUs, load {meta['load_start']}, work dir {work}")
        results_path = out / "benchmarks" / "results.json"
        previous = {}
        if len(selected) < len(SCENARIOS) and results_path.exists():
            previous = json.loads(results_path.read_text()).get("scenarios", {})
        scenarios = dict(previous)
        t_all = time.time()
        for key in selected:
            name, fn = SCENARIOS[key]
            t0 = time.time()
            entry = {"measured": measured | {"load1": load1()}}
            try:
                entry |= fn(ctx)
            except BenchError as err:
                say(f"scenario {key} ({name}) could not be measured: {err}")
                entry["error"] = str(err)
            except Exception as err:  # a harness bug or an unexpected answer: the other scenarios still run
                traceback.print_exc()
                say(f"scenario {key} ({name}) failed: {err!r}")
                entry["error"] = f"harness error: {err!r}"
            finally:
                procs.stop_all()
            entry["duration_secs"] = round(time.time() - t0, 1)
            scenarios[name] = entry
            say(f"scenario {key} ({name}) took {entry['duration_secs']:.0f} s")
        meta["duration_secs"] = round(time.time() - t_all, 1)
        meta["load_end"] = list(map(lambda x: round(x, 2), os.getloadavg()))
        own = os.times()
        meta["harness_cpu_secs"] = round(own.user + own.system, 1)
        meta["scenarios_run"] = [SCENARIOS[k][0] for k in selected]
        results_path.write_text(json.dumps({"meta": meta, "scenarios": scenarios}, indent=1) + "\n")
        plots = report.plots(scenarios, out / "benchmarks")
        (out / "benchmarks.md").write_text(report.markdown(meta, scenarios, plots))
        say(f"done in {meta['duration_secs']:.0f} s: {out / 'benchmarks.md'}")
        failed = [n for n, e in scenarios.items() if "error" in e]
        return 1 if failed else 0
    except BenchError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        procs.stop_all()
        if args.keep_work:
            print(f"bench: logs and inputs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _rustc() -> str:
    import subprocess
    try:
        return subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
