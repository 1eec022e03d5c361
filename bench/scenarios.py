"""The six scenarios of issue 5. Each one measures, returns plain data (no judgement), and leaves nothing behind:
its processes are stopped and its Redis namespace deleted, whatever happens.

Sizes come from `Sizes`: the full run (`make bench`) or a quick one (`scripts/bench.sh --quick`) for debugging the
harness. Every figure is computed from what the look-alike, Redis or the kernel counted, never from what was
asked for.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lib import (AUTHORITY, CLIENT_ID, CLIENT_SECRET, UNLIMITED_PER_MINUTE, BenchError, Mock, Proc, Procs,
                 Redis, calls_delta, clean_env, cpu_busy_secs, gnu_time, load1, own_cpu_secs, read_gnu_time,
                 run_capture, user_id)


@dataclass
class Sizes:
    budget_limits: tuple = ((50, 1.0), (100, 10.0))  # (L, window seconds)
    budget_secs: dict = field(default_factory=lambda: {1.0: 26, 10.0: 30})  # run length, by window
    budget_workers: tuple = (1, 2, 4)
    limit_phases: tuple = (15, 30, 20)  # seconds before, at half, after
    per_key_users: int = 10_000
    queue_items: int = 40_000
    # (worker processes, --concurrency): the 1 and 2 processes, each at three concurrencies.
    queue_runs: tuple = ((1, 4), (1, 8), (1, 16), (2, 4), (2, 8), (2, 16))
    enqueue_rows: tuple = (100_000, 1_000_000)
    recovery_reps: int = 3

    @staticmethod
    def quick() -> "Sizes":
        return Sizes(budget_secs={1.0: 8, 10.0: 8}, budget_workers=(1, 2), limit_phases=(5, 8, 6),
                     per_key_users=1_000, queue_items=5_000, queue_runs=((1, 8), (2, 8)),
                     enqueue_rows=(10_000, 100_000), recovery_reps=1)


@dataclass
class Ctx:
    bin: str
    redis_url: str
    work: Path
    run_id: str
    procs: Procs
    redis: Redis
    sizes: Sizes

    def ns(self, name: str) -> str:
        return f"bench-{self.run_id}-{name}"


def say(msg: str) -> None:
    print(f"bench [{datetime.now():%H:%M:%S}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Shared steps


def write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def enqueue(ctx: Ctx, ns: str, path: Path, *extra: str) -> dict:
    env = clean_env() | {"GCBULK_REDIS_URL": ctx.redis_url, "GCBULK_NAMESPACE": ns}
    _, out, _ = run_capture(f"enqueue-{ns}", [ctx.bin, "enqueue", str(path), "--json", *extra], env,
                            ctx.work, ctx.procs, timeout=300)
    return json.loads(out.strip().splitlines()[-1])


def worker_env(ctx: Ctx, ns: str, mock: Mock, **extra: str) -> dict[str, str]:
    return clean_env() | {
        "GCBULK_REDIS_URL": ctx.redis_url,
        "GCBULK_NAMESPACE": ns,
        "GENESYS_API_URL": mock.base,
        "GENESYS_LOGIN_URL": mock.base,
        "GENESYS_CLIENT_ID": CLIENT_ID,
        "GENESYS_CLIENT_SECRET": CLIENT_SECRET,
        "GENESYS_EXTERNAL_ID_AUTHORITY": AUTHORITY,
    } | extra


def start_workers(ctx: Ctx, ns: str, mock: Mock, n: int, rate_limit: int, concurrency: int, tag: str,
                  exit_when_idle: bool = True, grace: int = 5, **env: str) -> list[Proc]:
    argv = [ctx.bin, "worker", "--rate-limit", str(rate_limit), "--concurrency", str(concurrency),
            "--shutdown-grace", str(grace)]
    if exit_when_idle:
        argv.append("--exit-when-idle")
    e = worker_env(ctx, ns, mock, **env)
    return [Proc(f"{tag}-w{i}", argv, e, ctx.work / f"{tag}-w{i}.log", ctx.procs) for i in range(1, n + 1)]


def wait_batch(ctx: Ctx, ns: str, batch: str, workers: list[Proc], timeout: float, poll: float = 0.1) -> dict:
    """Polls the batch's counters (one HMGET per look) until its last outcome is recorded."""
    deadline = time.time() + timeout
    while True:
        state = ctx.redis.batch(ns, batch)
        if state["finished_at"] is not None:
            return state
        if workers and not any(w.alive() for w in workers):
            time.sleep(0.5)
            state = ctx.redis.batch(ns, batch)
            if state["finished_at"] is not None:
                return state
            raise BenchError(f"every worker exited before batch {batch} was done ({state}): "
                             f"{workers[0].tail()}")
        if time.time() > deadline:
            raise BenchError(f"batch {batch} not done within {timeout:.0f} s: {state}")
        time.sleep(poll)


def wait_exit(workers: list[Proc], timeout: float = 30) -> None:
    """Workers started with --exit-when-idle leave by themselves once the queue is idle."""
    deadline = time.time() + timeout
    for w in workers:
        if not w.wait(max(0.1, deadline - time.time())):
            w.stop()
    bad = [w for w in workers if w.exit not in (0, None)]
    if bad:
        raise BenchError(f"{bad[0].name} exited {bad[0].exit}: {bad[0].tail()}")


def per_second(stats: dict) -> list[dict]:
    return [{"s": t["second"], "requests": t["requests"], "ok": t["ok"], "throttled": t["throttled"]}
            for t in stats.get("timeline", [])]


def mean_ok(timeline: list[dict], first: int, last: int) -> float:
    """Mean 2xx per second over the whole seconds first..last (inclusive)."""
    secs = [t["ok"] for t in timeline if first <= t["s"] <= last]
    n = last - first + 1
    return sum(secs) / n if n > 0 else float("nan")


def route_summary(stats: dict) -> dict[str, int]:
    return {route: sum(by.values()) for route, by in stats.get("by_route", {}).items()}


# ---------------------------------------------------------------------------------------------------------------
# 1. Budget utilisation

BUDGET_LATENCY_MS, BUDGET_JITTER_MS, BUDGET_CONCURRENCY = 50, 25, 4
# Seconds left out at the start of a run: worker start-up (token, first fetch), not the rate the fleet keeps.
TRIM_SECS = 2


def budget_utilisation(ctx: Ctx) -> dict:
    """Each run lasts a fixed time with a batch larger than it can finish, then the workers are stopped: the end
    of a batch (its last chunks running alone, below the limit) is a drain, not the rate the fleet keeps up."""
    runs = []
    for limit, window in ctx.sizes.budget_limits:
        per_minute = round(limit * 60 / window)
        secs = ctx.sizes.budget_secs[window]
        users = int(secs * limit / window * 1.5) + 100
        path = write_csv(ctx.work / f"budget-{users}.csv", ["id", "title"],
                         ((user_id(i), "Bench budget") for i in range(1, users + 1)))
        for n in ctx.sizes.budget_workers:
            tag = f"budget-{limit}per{window:g}s-{n}w"
            ns = ctx.ns(tag)
            say(f"1. budget: {limit} per {window:g} s, {n} worker(s), {secs} s ({users} users queued)")
            load = load1()
            mock = Mock(ctx, f"mock-{tag}", users=users, rate_limit=limit, window=window,
                        latency_ms=BUDGET_LATENCY_MS, jitter_ms=BUDGET_JITTER_MS)
            workers: list[Proc] = []
            try:
                batch = enqueue(ctx, ns, path)["batch"]
                mock.reset_stats()
                workers = start_workers(ctx, ns, mock, n, per_minute, BUDGET_CONCURRENCY, tag,
                                        exit_when_idle=False, grace=3)
                time.sleep(secs)
                stats = mock.stats()
                progress = ctx.redis.batch(ns, batch)
                if not all(w.alive() for w in workers):
                    raise BenchError(f"a worker exited during the run: {workers[0].tail()}")
                if progress["finished_at"] is not None:
                    raise BenchError(f"the batch of {users} users ran out before the {secs} s were up")
            finally:
                for w in workers:
                    w.stop(grace=10)
                mock.stop()
                ctx.redis.delete_namespace(ns)
            timeline = per_second(stats)
            active = [t["s"] for t in timeline if t["ok"] > 0]
            # The last whole second before the snapshot; the one in progress is left out.
            first, last = active[0] + TRIM_SECS, math.floor(stats["elapsed_secs"]) - 1
            rate = mean_ok(timeline, first, last)
            runs.append({
                "limit": limit, "window": window, "per_minute": per_minute, "workers": n,
                "concurrency": BUDGET_CONCURRENCY, "users": users, "run_secs": secs, "load1": load,
                "updated_by_end": progress["updated"],
                "api_requests": stats["api_requests"], "ok": stats["ok"], "throttled": stats["throttled"],
                "during_retry_after": stats["requests_during_retry_after"],
                "steady": [first, last], "steady_secs": last - first + 1,
                "ok_per_sec": rate, "utilisation": rate / (limit / window),
                "routes": route_summary(stats), "timeline": timeline,
            })
    return {"latency_ms": BUDGET_LATENCY_MS, "jitter_ms": BUDGET_JITTER_MS, "runs": runs}


# ---------------------------------------------------------------------------------------------------------------
# 2. Limit changes mid-run


def limit_change(ctx: Ctx) -> dict:
    limit, window, n = 50, 1.0, 2
    before, half, after = ctx.sizes.limit_phases
    # More users than the run can reach: the phases set the duration, and the workers are stopped at the end.
    users = int((before + half + after + 10) * limit / window)
    tag = "limit-change"
    ns = ctx.ns(tag)
    say(f"2. limit change: {limit} per {window:g} s for {before} s, {limit // 2} for {half} s, "
        f"{limit} for {after} s; {n} workers")
    load = load1()
    path = write_csv(ctx.work / "limit.csv", ["id", "title"],
                     ((user_id(i), "Bench limit") for i in range(1, users + 1)))
    mock = Mock(ctx, f"mock-{tag}", users=users, rate_limit=limit, window=window,
                latency_ms=BUDGET_LATENCY_MS, jitter_ms=BUDGET_JITTER_MS)
    workers: list[Proc] = []
    try:
        batch = enqueue(ctx, ns, path)["batch"]
        mock.reset_stats()
        workers = start_workers(ctx, ns, mock, n, round(limit * 60 / window), BUDGET_CONCURRENCY, tag, grace=3)
        time.sleep(before)
        mock.set_limit(limit // 2, window)
        t_drop = mock.stats()["elapsed_secs"]
        time.sleep(half)
        mock.set_limit(limit, window)
        t_restore = mock.stats()["elapsed_secs"]
        time.sleep(after)
        stats = mock.stats()
        t_end = stats["elapsed_secs"]
        if not all(w.alive() for w in workers):
            raise BenchError(f"a worker exited during the run: {workers[0].tail()}")
        progress = ctx.redis.batch(ns, batch)
    finally:
        for w in workers:
            w.stop(grace=10)
        mock.stop()
        ctx.redis.delete_namespace(ns)
    timeline = per_second(stats)
    active = [t["s"] for t in timeline if t["ok"] > 0]

    def throttled(a: float, b: float) -> int:
        return sum(t["throttled"] for t in timeline if a <= t["s"] < b)

    drop_s, restore_s = math.floor(t_drop), math.floor(t_restore)
    # Seconds that straddle a change belong to neither phase; TRIM_SECS more are left for the fleet to adapt.
    phases = {
        "before": (active[0] + TRIM_SECS, drop_s - 1, limit),
        "half": (drop_s + 1 + TRIM_SECS, restore_s - 1, limit // 2),
        "after": (restore_s + 1 + TRIM_SECS, math.floor(t_end) - 1, limit),
    }
    throttle_times = [t["s"] for t in timeline if t["throttled"] > 0 and t["s"] >= drop_s]
    return {
        "limit": limit, "window": window, "workers": n, "concurrency": BUDGET_CONCURRENCY, "load1": load,
        "phase_secs": [before, half, after], "t_drop": t_drop, "t_restore": t_restore, "t_end": t_end,
        "phases": {k: {"first": a, "last": b, "limit": lim, "ok_per_sec": mean_ok(timeline, a, b),
                       "utilisation": mean_ok(timeline, a, b) / (lim / window)}
                   for k, (a, b, lim) in phases.items()},
        "throttled_before": throttled(0, drop_s),
        "throttled_half": throttled(drop_s, restore_s),
        "throttled_after": throttled(restore_s, 10**9),
        "throttled_total": stats["throttled"],
        "last_429_after_drop_secs": (max(throttle_times) - drop_s if throttle_times else None),
        "during_retry_after": stats["requests_during_retry_after"],
        "api_requests": stats["api_requests"], "updated_by_end": progress["updated"],
        "timeline": timeline,
    }


# ---------------------------------------------------------------------------------------------------------------
# 3. Requests per user

PER_USER_WORKERS, PER_USER_CONCURRENCY = 2, 8
NEW_TITLE = "Benchmark Title"  # no seeded user has it, so every row of the changed cases is a real change


def requests_per_user(ctx: Ctx) -> dict:
    per = ctx.sizes.per_key_users
    mock = Mock(ctx, "mock-per-user", users=4 * per, rate_limit=0)
    cases = []
    try:
        state = {u["id"]: u for u in mock.users()}
        files = {
            "id": write_csv(ctx.work / "per-id.csv", ["id", "title"],
                            ((user_id(i), NEW_TITLE) for i in range(1, per + 1))),
            "email": write_csv(ctx.work / "per-email.csv", ["email", "title"],
                               ((f"user{i}@example.com", NEW_TITLE) for i in range(per + 1, 2 * per + 1))),
            "external_id": write_csv(ctx.work / "per-ext.csv", ["external_id", "title"],
                                     ((f"ext-{i}", NEW_TITLE) for i in range(2 * per + 1, 3 * per + 1))),
            # Rows that ask for what the users already are (read back from the look-alike).
            "unchanged (id)": write_csv(
                ctx.work / "per-unchanged.csv", ["id", "name", "title", "department"],
                ((u["id"], u["name"], u.get("title") or "", u.get("department") or "")
                 for u in (state[user_id(i)] for i in range(3 * per + 1, 4 * per + 1)))),
        }
        for case, path in files.items():
            tag = "per-user-" + re.sub(r"[^a-z]+", "-", case).strip("-")
            ns = ctx.ns(tag)
            say(f"3. requests per user: {per} rows keyed by {case}")
            try:
                batch = enqueue(ctx, ns, path)["batch"]
                mock.reset_stats()
                workers = start_workers(ctx, ns, mock, PER_USER_WORKERS, UNLIMITED_PER_MINUTE,
                                        PER_USER_CONCURRENCY, tag)
                done = wait_batch(ctx, ns, batch, workers, timeout=300)
                wait_exit(workers)
                stats = mock.stats()
            finally:
                ctx.redis.delete_namespace(ns)
            cases.append({
                "case": case, "rows": per, "updated": done["updated"], "unchanged": done["unchanged"],
                "dead": done["dead"], "api_requests": stats["api_requests"],
                "token_requests": stats["token_requests"], "writes": stats["writes"],
                "throttled": stats["throttled"], "routes": route_summary(stats),
                "per_updated": stats["api_requests"] / done["updated"] if done["updated"] else None,
                "per_row": stats["api_requests"] / per,
            })
    finally:
        mock.stop()
    return {"workers": PER_USER_WORKERS, "concurrency": PER_USER_CONCURRENCY, "cases": cases}


# ---------------------------------------------------------------------------------------------------------------
# 4. Queue overhead


def queue_overhead(ctx: Ctx) -> dict:
    items = ctx.sizes.queue_items
    path = write_csv(ctx.work / "queue.csv", ["id", "title"],
                     ((user_id(i), NEW_TITLE) for i in range(1, items + 1)))
    runs = []
    for n, conc in ctx.sizes.queue_runs:
        tag = f"queue-{n}w-c{conc}"
        ns = ctx.ns(tag)
        say(f"4. queue overhead: {items} items, {n} worker(s) x concurrency {conc}")
        load = load1()
        mock = Mock(ctx, f"mock-{tag}", users=items, rate_limit=0)
        try:
            batch = enqueue(ctx, ns, path)["batch"]
            # Other clients of a shared Redis: their command rate just before the run, for the reader to judge.
            r = ctx.redis
            c0, m0 = r.command_calls(), r.mine()
            time.sleep(1.0)
            c1, m1 = r.command_calls(), r.mine()
            background_per_sec = sum(calls_delta(c0, c1).values()) - (m1 - m0)
            mock.reset_stats()
            before, mine0, redis_cpu0 = r.command_calls(), r.mine(), r.cpu_seconds()
            busy0, own0, mock_cpu0 = cpu_busy_secs(), own_cpu_secs(), mock.proc.cpu_seconds()
            t0 = time.time()
            workers = start_workers(ctx, ns, mock, n, UNLIMITED_PER_MINUTE, conc, tag)
            done = wait_batch(ctx, ns, batch, workers, timeout=600, poll=0.1)
            wait_exit(workers)
            busy1, own1, mock_cpu1 = cpu_busy_secs(), own_cpu_secs(), mock.proc.cpu_seconds()
            t1 = time.time()
            after, mine1, redis_cpu1 = r.command_calls(), r.mine(), r.cpu_seconds()
            stats = mock.stats()
        finally:
            mock.stop()
            ctx.redis.delete_namespace(ns)
        delta = calls_delta(before, after)
        commands = sum(delta.values()) - (mine1 - mine0)
        elapsed = done["finished_at"] / 1000 - t0
        worker_cpu = sum(w.cpu_seconds() for w in workers)
        mock_cpu, redis_cpu = mock_cpu1 - mock_cpu0, redis_cpu1 - redis_cpu0
        # Whatever else kept the CPUs busy meanwhile (other people's builds and tests on a shared machine).
        others = (busy1 - busy0) - worker_cpu - mock_cpu - redis_cpu - (own1 - own0)
        top = sorted(delta.items(), key=lambda kv: -kv[1])[:8]
        runs.append({
            "workers": n, "concurrency": conc, "items": items, "load1": load,
            "updated": done["updated"], "unchanged": done["unchanged"], "dead": done["dead"],
            "elapsed_secs": elapsed, "items_per_sec": items / elapsed,
            "api_requests": stats["api_requests"],
            "redis_commands": commands, "redis_commands_per_item": commands / items,
            "scripts_per_item": (delta.get("evalsha", 0) + delta.get("eval", 0)) / items,
            "top_commands": [[k, v / items] for k, v in top],
            "background_commands_per_sec": background_per_sec,
            "worker_cpu_secs": worker_cpu, "worker_cpu_per_10k": worker_cpu * 10_000 / items,
            "mock_cpu_per_10k": mock_cpu * 10_000 / items,
            "redis_cpu_per_10k": redis_cpu * 10_000 / items,
            "harness_cpu_secs": own1 - own0,
            "other_cpu_cores": max(0.0, others) / (t1 - t0),
            "worker_peak_rss_mb": max(w.peak_rss_mb() for w in workers),
        })
    return {"nproc": os.cpu_count(), "runs": runs}


# ---------------------------------------------------------------------------------------------------------------
# 5. Enqueue


def enqueue_speed(ctx: Ctx) -> dict:
    runs = []
    for rows in ctx.sizes.enqueue_rows:
        path = ctx.work / f"enqueue-{rows}.csv"
        with open(path, "w") as f:
            f.write("id,title\n")
            f.writelines(f"{user_id(i)},Title {i % 997}\n" for i in range(1, rows + 1))
        size_mb = path.stat().st_size / 1e6
        for dry in (False, True) if rows == max(ctx.sizes.enqueue_rows) else (False,):
            tag = f"enqueue-{rows}" + ("-dry" if dry else "")
            ns = ctx.ns(tag)
            say(f"5. enqueue: {rows} rows{' (--dry-run)' if dry else ''}")
            load = load1()
            env = clean_env() | {"GCBULK_REDIS_URL": ctx.redis_url, "GCBULK_NAMESPACE": ns}
            argv = [ctx.bin, "enqueue", str(path), "--json"] + (["--dry-run"] if dry else [])
            timing = ctx.work / f"{tag}.time"
            try:
                # /usr/bin/time reports the exact peak RSS of this short process; VmHWM sampling every 10 ms
                # (what is used when it is missing) can miss the last moments.
                proc, out, wall = run_capture(tag, gnu_time(argv, timing), env, ctx.work, ctx.procs,
                                              timeout=300, hwm_every=0.01)
                answer = json.loads(out.strip().splitlines()[-1])
                stored = None if dry else ctx.redis.batch(ns, answer["batch"])["items"]
            finally:
                ctx.redis.delete_namespace(ns)
            if answer.get("items") != rows or (stored is not None and stored != rows):
                raise BenchError(f"enqueue of {rows} rows reported {answer}, batch holds {stored}")
            usage = read_gnu_time(timing) or {"cpu_secs": proc.cpu_seconds(), "peak_rss_mb": proc.peak_rss_mb()}
            runs.append({"rows": rows, "dry_run": dry, "file_mb": size_mb, "wall_secs": wall,
                         "rows_per_sec": rows / wall, "peak_rss_mb": usage["peak_rss_mb"],
                         "rss_source": "/usr/bin/time" if timing.exists() else "VmHWM sampled every 10 ms",
                         "cpu_secs": usage["cpu_secs"], "chunks": answer.get("chunks"), "load1": load})
        path.unlink()
    return {"runs": runs}


# ---------------------------------------------------------------------------------------------------------------
# 6. Recovery

CLAIM_IDLE_SECS = 10
HOLD_LATENCY_MS = 20_000  # the killed worker's requests hang this long, so it dies holding its chunks
TOOK_OVER = re.compile(r"^(\S+Z)\s.*took over a job")


def recovery(ctx: Ctx) -> dict:
    reps = []
    for rep in range(1, ctx.sizes.recovery_reps + 1):
        tag = f"recovery-{rep}"
        ns = ctx.ns(tag)
        say(f"6. recovery {rep}/{ctx.sizes.recovery_reps}: SIGKILL a worker holding 4 chunks, "
            f"claim idle timeout {CLAIM_IDLE_SECS} s")
        load = load1()
        path = write_csv(ctx.work / "recovery.csv", ["id", "title"],
                         ((user_id(i), NEW_TITLE) for i in range(1, 101)))
        mock = Mock(ctx, f"mock-{tag}", users=100, rate_limit=0)
        procs: list[Proc] = []
        try:
            batch = enqueue(ctx, ns, path, "--chunk-size", "25")["batch"]
            faults = mock.faults()
            mock.set_faults(faults | {"latency_ms": HOLD_LATENCY_MS})
            env = {"GCBULK_CLAIM_IDLE_SECS": str(CLAIM_IDLE_SECS)}
            victim = start_workers(ctx, ns, mock, 1, UNLIMITED_PER_MINUTE, 4, f"{tag}-victim",
                                   exit_when_idle=False, **env)[0]
            procs.append(victim)
            deadline = time.time() + 30
            while True:  # until the victim holds all four chunks
                try:
                    pending = ctx.redis.cmd("XPENDING", f"{{{ns}}}:jobs", "workers")
                except BenchError as err:  # the worker creates the consumer group on its first read
                    if "NOGROUP" not in str(err):
                        raise
                    pending = None
                if pending and pending[0] == 4:
                    break
                if time.time() > deadline or not victim.alive():
                    raise BenchError(f"the worker to kill never held the 4 chunks: {pending} {victim.tail()}")
                time.sleep(0.02)
            t_held = time.time()
            survivor = start_workers(ctx, ns, mock, 1, UNLIMITED_PER_MINUTE, 4, f"{tag}-survivor",
                                     exit_when_idle=False, **env)[0]
            procs.append(survivor)
            # The survivor is up and idle, with nothing to do but look for abandoned jobs. The kill falls at a
            # different point of the victim's lease-renewal cycle in each run (a third of the idle timeout), one of
            # them just after a renewal, the worst moment to die.
            renew = CLAIM_IDLE_SECS / 3
            kill_after = (renew + 0.25, 2.0, renew + 2.0)[(rep - 1) % 3]
            time.sleep(max(0.0, t_held + kill_after - time.time()))
            if ctx.redis.batch(ns, batch)["updated"]:
                raise BenchError("items finished before the kill; the victim did not hold its chunks")
            # How long ago the victim last renewed its leases: an entry becomes claimable when this reaches the
            # idle timeout, so the rest of the wait is the survivor's detection delay.
            entries = ctx.redis.cmd("XPENDING", f"{{{ns}}}:jobs", "workers", "-", "+", 10)
            t_kill = time.time()
            victim.signal(signal.SIGKILL)
            lease_age = max(int(e[2]) for e in entries) / 1000 if entries else None
            # The re-run costs ~nothing from here on: what is measured is the time to notice and take over.
            mock.set_faults(faults)
            done = wait_batch(ctx, ns, batch, [survivor], timeout=CLAIM_IDLE_SECS * 4 + 30, poll=0.05)
            survivor.stop()
        finally:
            for p in procs:
                p.stop()
            mock.proc.stop(grace=1)
            ctx.redis.delete_namespace(ns)
        takeovers = []
        for line in survivor.log_path.read_text(errors="replace").splitlines():
            m = TOOK_OVER.match(line)
            if m:
                ts = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
                takeovers.append(ts - t_kill)
        reps.append({"rep": rep, "load1": load, "updated": done["updated"], "dead": done["dead"],
                     "kill_after_held_secs": t_kill - t_held, "lease_age_at_kill_secs": lease_age,
                     "kill_to_done_secs": done["finished_at"] / 1000 - t_kill,
                     "kill_to_takeover_secs": min(takeovers) if takeovers else None,
                     "takeovers": len(takeovers)})
    return {"claim_idle_secs": CLAIM_IDLE_SECS, "target_secs": CLAIM_IDLE_SECS + 2, "reps": reps}


SCENARIOS = {
    "1": ("budget", budget_utilisation),
    "2": ("limit_change", limit_change),
    "3": ("requests_per_user", requests_per_user),
    "4": ("queue_overhead", queue_overhead),
    "5": ("enqueue", enqueue_speed),
    "6": ("recovery", recovery),
}
