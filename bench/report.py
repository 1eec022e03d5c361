"""docs/benchmarks.md and the plots, from the measured figures (bench/bench.py). Targets are the ones of issue 5;
a figure that misses its target is shown with ✗ and its value, never left out."""

from __future__ import annotations

import math
from pathlib import Path

TARGETS = {
    "utilisation": 0.95,
    "per_user": {"id": 1.05, "email": 1.1},
    "items_per_sec": 5000,
    "worker_rss_mb": 40,
    "enqueue_rows_per_sec": 200_000,
    "enqueue_rss_mb": 64,
}
NAIVE = {"id": "2.0", "email": "3.0", "external_id": "2.0", "unchanged (id)": "2.0"}


def mark(ok: bool | None) -> str:
    return "–" if ok is None else ("✓" if ok else "✗")


def f(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.{digits}f}"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Plots


def plots(scenarios: dict, outdir: Path) -> dict[str, str]:
    """One PNG per rate scenario; returns {scenario: file name} or {"_missing": reason}."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        return {"_missing": f"matplotlib is not installed ({err}); the tables are complete without it"}
    made = {}
    budget = scenarios.get("budget", {})
    if budget.get("runs"):
        runs = budget["runs"]
        configs = sorted({(r["limit"], r["window"]) for r in runs}, key=lambda c: c[1])
        workers = sorted({r["workers"] for r in runs})
        fig, axes = plt.subplots(len(configs), len(workers), figsize=(4.6 * len(workers), 3.4 * len(configs)),
                                 squeeze=False, constrained_layout=True)
        for i, (limit, window) in enumerate(configs):
            for j, n in enumerate(workers):
                ax = axes[i][j]
                run = next((r for r in runs if (r["limit"], r["window"], r["workers"]) == (limit, window, n)), None)
                if run is None:
                    ax.set_visible(False)
                    continue
                _rate_axes(ax, run["timeline"], [(0, len(run["timeline"]), limit / window)])
                ax.axvspan(run["steady"][0], run["steady"][1] + 1, color="tab:green", alpha=0.12, zorder=0,
                           label="steady part")
                ax.set_title(f"{limit} per {window:g} s, {n} worker{'s' if n > 1 else ''}: "
                             f"{run['utilisation']:.2f} of L, {run['throttled']} × 429", fontsize=9)
                if i == 0 and j == 0:
                    ax.legend(fontsize=7, loc="lower center")
        fig.suptitle("Budget utilisation: API requests per second at the look-alike (2xx) against the limit")
        fig.savefig(outdir / "budget-utilisation.png", dpi=110)
        plt.close(fig)
        made["budget"] = "budget-utilisation.png"
    lc = scenarios.get("limit_change", {})
    if lc.get("timeline"):
        fig, ax = plt.subplots(figsize=(11, 4), constrained_layout=True)
        per_s = lc["limit"] / lc["window"]
        steps = [(0, lc["t_drop"], per_s), (lc["t_drop"], lc["t_restore"], per_s / 2),
                 (lc["t_restore"], lc["t_end"], per_s)]
        _rate_axes(ax, lc["timeline"], steps)
        for k, p in lc["phases"].items():
            ax.axvspan(p["first"], p["last"] + 1, color="tab:green", alpha=0.12, zorder=0)
            ax.text((p["first"] + p["last"] + 1) / 2, per_s * 1.12, f"{k}: {p['utilisation']:.2f} of L",
                    ha="center", fontsize=8)
        ax.set_ylim(0, per_s * 1.25)
        ax.legend(fontsize=8, loc="lower left")
        ax.set_title(f"Limit halved for {lc['phase_secs'][1]} s, then restored ({lc['workers']} workers): "
                     f"{lc['throttled_total']} × 429 in all")
        fig.savefig(outdir / "limit-change.png", dpi=110)
        plt.close(fig)
        made["limit_change"] = "limit-change.png"
    return made


def _rate_axes(ax, timeline: list[dict], limit_steps: list[tuple]) -> None:
    xs = [t["s"] for t in timeline]
    ax.bar(xs, [t["ok"] for t in timeline], width=1.0, align="edge", color="tab:blue", alpha=0.8, zorder=2,
           label="2xx per second")
    thr = [(t["s"], t["throttled"]) for t in timeline if t["throttled"]]
    if thr:
        ax.bar([s for s, _ in thr], [n for _, n in thr], width=1.0, align="edge", color="tab:red",
               bottom=[next(t["ok"] for t in timeline if t["s"] == s) for s, _ in thr], zorder=2,
               label="429 per second")
        top = max(t["ok"] for t in timeline) or 1
        ax.plot([s + 0.5 for s, _ in thr], [top * 1.05] * len(thr), "x", color="tab:red", label="a second with 429s")
    first = True
    for a, b, level in limit_steps:
        ax.hlines(level, a, b, colors="black", linestyles="dashed", zorder=3,
                  label="limit (per second)" if first else None)
        first = False
    ax.set_xlabel("seconds since the workers started")
    ax.set_ylabel("requests / s")


# ---------------------------------------------------------------------------------------------------------------
# The page


def markdown(meta: dict, sc: dict, plot_files: dict) -> str:
    m = meta["machine"]
    out = []
    w = out.append
    w("# Benchmarks\n")
    w("Written by `make bench` (`scripts/bench.sh` → `bench/bench.py`) from what it measured; do not edit by hand. "
      "Everything runs on one machine against the release binary: the Genesys Cloud look-alike "
      "(`gcbulk mock-genesys`) and Redis on 127.0.0.1, no real org. Why it is done this way: "
      "[decision 0070](decisions/0070-benchmarks-against-the-look-alike.md).\n")
    if meta.get("quick"):
        w("> **Quick run** (`--quick`): small sizes to debug the harness; these figures are not the benchmark.\n")
    w(table(["", ""], [
        ["machine", f"{m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}"],
        ["commit", f"`{meta['commit']}`" + (" + uncommitted changes under crates/ (the working tree was built)"
                                           if meta.get("dirty") else "")],
        ["date", meta["date"]],
        ["toolchain", f"{meta.get('rustc', '')}, release profile; Redis {meta.get('redis_version', '?')}; "
                      f"Python {m['python']} harness"],
        ["1-minute load", f"{meta['load_start'][0]} at the start, {meta['load_end'][0]} at the end (the machine "
                          "is shared; the load average also counts the benchmark's own processes)"],
        ["duration", f"{meta['duration_secs']:.0f} s for {', '.join(meta['scenarios_run'])} (the harness itself "
                     f"used {meta.get('harness_cpu_secs', '?')} CPU s)"],
    ]))
    if "_missing" in plot_files:
        w(f"\n*No plots in this run: {plot_files['_missing']}.*\n")

    w("\n## Summary\n")
    w(table(["scenario", "figure", "target", "met"], summary_rows(sc)))
    w("\n" + scale_note(sc) + "\n")

    sections = [("budget", budget_section), ("limit_change", limit_section), ("requests_per_user", per_user_section),
                ("queue_overhead", queue_section), ("enqueue", enqueue_section), ("recovery", recovery_section)]
    for key, fn in sections:
        entry = sc.get(key)
        if entry is None:
            continue
        w("\n" + fn(entry, plot_files))
    w("\n" + REPRODUCE)
    return "\n".join(out)


def scale_note(sc: dict) -> str:
    """What was scaled down from the issue's sizes, from the sizes actually run."""
    parts = []
    runs = sc.get("budget", {}).get("runs", [])
    for limit, window in sorted({(r["limit"], r["window"]) for r in runs}, key=lambda c: c[1]):
        r = [x for x in runs if (x["limit"], x["window"]) == (limit, window)]
        steady = sorted({x["steady_secs"] for x in r})
        span = f"{steady[0]}" if len(steady) == 1 else f"{steady[0]}–{steady[-1]}"
        parts.append(f"budget runs of {r[0]['run_secs']} s at {limit} per {window:g} s (steady parts of {span} s)")
    if any(x["window"] == 10 for x in runs):
        parts.append("the 300-per-60-s limit modelled as 100 per 10 s")
    lc = sc.get("limit_change", {})
    if "phase_secs" in lc:
        parts.append(f"the limit-change run as {lc['phase_secs'][0]} s + {lc['phase_secs'][1]} s at half + "
                     f"{lc['phase_secs'][2]} s")
    q = sc.get("queue_overhead", {}).get("runs", [])
    if q:
        parts.append(f"{q[0]['items']:,} items per queue-overhead run")
    rc = sc.get("recovery", {})
    if "claim_idle_secs" in rc:
        parts.append(f"recovery with a {rc['claim_idle_secs']} s claim idle timeout (60 s by default)")
    if not parts:
        return ""
    full = []
    cases = sc.get("requests_per_user", {}).get("cases", [])
    if cases:
        full.append(f"requests per user with {cases[0]['rows']:,} rows per key")
    enq = sc.get("enqueue", {}).get("runs", [])
    if enq:
        full.append(f"enqueue with up to {max(r['rows'] for r in enq):,} rows")
    return ("Scaled down from the issue's sizes (3,000 users per budget run — a minute of work at 50 per second — "
            "and a 60 s window) to fit ten minutes on "
            "two cores: " + "; ".join(parts) + "." + (f" Run as the issue sizes them: {' and '.join(full)}."
                                                      if full else ""))


def measured_line(e: dict) -> str:
    mm = e.get("measured", {})
    dirty = " + uncommitted changes" if mm.get("dirty") else ""
    return (f"*Measured {mm.get('date', '?')} at `{mm.get('commit', '?')}`{dirty}, 1-minute load "
            f"{mm.get('load1', '?')} at its start; took {e.get('duration_secs', 0):.0f} s.*\n")


def error_block(e: dict) -> str:
    return f"\n**Not measured: {e['error']}**\n" if "error" in e else ""


def summary_rows(sc: dict) -> list[list]:
    rows = []
    b = sc.get("budget", {})
    for r in b.get("runs", []):
        rows.append([f"1. budget, {r['limit']} per {r['window']:g} s, {r['workers']} worker(s)",
                     f"{r['utilisation']:.3f} of L, {r['throttled']} × 429",
                     "≥ 0.95 of L, 0 × 429",
                     mark(r["utilisation"] >= TARGETS["utilisation"] and r["throttled"] == 0)])
    lc = sc.get("limit_change", {})
    if "phases" in lc:
        adapt = lc["throttled_half"] + lc["throttled_after"]
        rows.append([f"2. limit halved for {lc['phase_secs'][1]} s, {lc['workers']} workers",
                     f"{adapt} × 429 after the change", f"≤ {lc['workers']}", mark(adapt <= lc["workers"])])
        u = lc["phases"]["after"]["utilisation"]
        rows.append(["2. … utilisation after the limit is restored", f"{u:.3f} of L",
                     "≥ 0.95 of L (as in 1.)", mark(u >= TARGETS["utilisation"])])
    for c in sc.get("requests_per_user", {}).get("cases", []):
        if c["case"] in TARGETS["per_user"]:
            t = TARGETS["per_user"][c["case"]]
            rows.append([f"3. requests per updated user, key `{c['case']}`", f(c["per_updated"], 3), f"≤ {t}",
                         mark(c["per_updated"] is not None and c["per_updated"] <= t and c["dead"] == 0)])
        elif c["case"].startswith("unchanged"):
            rows.append(["3. writes for 10,000 unchanged users" if c["rows"] == 10_000 else
                         f"3. writes for {c['rows']:,} unchanged users", f(c["writes"]), "0",
                         mark(c["writes"] == 0 and c["unchanged"] == c["rows"])])
    for r in sc.get("queue_overhead", {}).get("runs", []):
        rows.append([f"4. end to end, {r['workers']} worker(s) × concurrency {r['concurrency']}",
                     f"{r['items_per_sec']:,.0f} items/s", "≥ 5,000 items/s",
                     mark(r["items_per_sec"] >= TARGETS["items_per_sec"])])
    q = sc.get("queue_overhead", {}).get("runs", [])
    if q:
        peak = max(r["worker_peak_rss_mb"] for r in q)
        rows.append(["4. worker peak RSS (largest of the runs)", f"{peak:.1f} MB", "≤ 40 MB",
                     mark(peak <= TARGETS["worker_rss_mb"])])
    for r in sc.get("enqueue", {}).get("runs", []):
        if r["dry_run"]:
            continue
        rows.append([f"5. enqueue {r['rows']:,} rows", f"{r['rows_per_sec']:,.0f} rows/s, {r['peak_rss_mb']:.1f} MB",
                     "≥ 200,000 rows/s (1M), ≤ 64 MB",
                     mark(r["peak_rss_mb"] <= TARGETS["enqueue_rss_mb"] and
                          (r["rows"] < 1_000_000 or r["rows_per_sec"] >= TARGETS["enqueue_rows_per_sec"]))])
    rc = sc.get("recovery", {})
    if rc.get("reps"):
        worst = max(r["kill_to_done_secs"] for r in rc["reps"])
        rows.append([f"6. SIGKILL → its chunks finished by another worker (worst of {len(rc['reps'])})",
                     f"{worst:.1f} s", f"≤ {rc['target_secs']} s (claim idle {rc['claim_idle_secs']} s + 2 s)",
                     mark(worst <= rc["target_secs"])])
    for key, e in sc.items():
        if "error" in e:
            rows.append([key, "not measured", "", "✗"])
    return rows


def budget_section(e: dict, plots: dict) -> str:
    s = ["## 1. Budget utilisation\n", measured_line(e), error_block(e)]
    if e.get("runs"):
        s.append(f"The look-alike enforces L requests per fixed window per OAuth client and answers every API "
                 f"request after {e['latency_ms']} ms (+ up to {e['jitter_ms']} ms); each worker runs with "
                 f"`--rate-limit` = L × 60 / window (the same budget per minute) and `--concurrency "
                 f"{e['runs'][0]['concurrency']}`. Every row is a title change keyed by `id`. Each run lasts a fixed "
                 "time with more users queued than it can reach, then the workers are stopped: the end of a batch, "
                 "where its last chunks run alone below the limit, is a drain and not the rate the fleet keeps. "
                 "*Utilisation* = mean 2xx per second over the steady part ÷ (L / window); the steady part leaves "
                 "out the first two seconds with traffic (worker start-up) and the second in progress at the end. "
                 "*Outcomes recorded* counts the users whose chunk had finished when the workers were stopped "
                 "(a chunk records its outcomes when it finishes; with 8–16 chunks sharing 10 requests a second, "
                 "a chunk of 50 takes longer than the run).\n")
        rows = []
        for r in e["runs"]:
            ok = r["utilisation"] >= TARGETS["utilisation"] and r["throttled"] == 0
            rows.append([f"{r['limit']} per {r['window']:g} s", r["per_minute"], r["workers"], r["run_secs"],
                         r["steady_secs"], f(r["updated_by_end"]), f(r["ok_per_sec"]),
                         f"**{r['utilisation']:.3f}**", r["throttled"], r["during_retry_after"], mark(ok)])
        s.append(table(["limit L", "--rate-limit /min", "workers", "run s", "steady s", "outcomes recorded",
                        "2xx/s (steady)", "utilisation", "429s", "sent during Retry-After", "≥ 0.95, 0 × 429"],
                       rows))
        if "budget" in plots:
            s.append(f"\n![requests per second against the limit](benchmarks/{plots['budget']})\n")
    return "\n".join(s)


def limit_section(e: dict, plots: dict) -> str:
    s = ["## 2. Limit changes mid-run\n", measured_line(e), error_block(e)]
    if "phases" in e:
        b, h, a = e["phase_secs"]
        s.append(f"{e['workers']} workers (`--rate-limit {round(e['limit'] * 60 / e['window'])}`, concurrency "
                 f"{e['concurrency']}), look-alike at {e['limit']} per {e['window']:g} s; after {b} s "
                 f"`POST /__mock/limit` sets {e['limit'] // 2}, {h} s later {e['limit']} again, and the workers are "
                 f"stopped {a} s after that (the batch is larger than the run). Utilisation per phase leaves out "
                 "the second of each change and the two after it.\n")
        rows = [[k, f"{p['first']}–{p['last']}", p["limit"], f(p["ok_per_sec"]), f"{p['utilisation']:.3f}"]
                for k, p in e["phases"].items()]
        s.append(table(["phase", "seconds", "L", "2xx/s", "utilisation"], rows))
        adapt = e["throttled_half"] + e["throttled_after"]
        s.append("\n" + table(["429s before", "429s at half", "429s after restore", "last 429, s after the drop",
                               "sent during Retry-After", f"≤ {e['workers']} after the change"],
                              [[e["throttled_before"], e["throttled_half"], e["throttled_after"],
                                e["last_429_after_drop_secs"] if e["last_429_after_drop_secs"] is not None else "–",
                                e["during_retry_after"], mark(adapt <= e["workers"])]]))
        if "limit_change" in plots:
            s.append(f"\n![requests per second through the limit change](benchmarks/{plots['limit_change']})\n")
    return "\n".join(s)


def per_user_section(e: dict, plots: dict) -> str:
    s = ["## 3. Requests per user\n", measured_line(e), error_block(e)]
    if e.get("cases"):
        s.append(f"No rate limit at the look-alike, {e['workers']} workers × concurrency {e['concurrency']} with a "
                 "budget no run reaches; chunks of 50. Changed rows set a new `title`; the unchanged rows carry "
                 "`name`, `title` and `department` exactly as `GET /__mock/users` reports them. API requests are "
                 "the look-alike's `api_requests` (every `/api/v2` request; token requests excluded and shown "
                 "apart). The naive loop reads each user and PATCHes it (2 requests), with an e-mail search first "
                 "when keyed by e-mail (3); keyed by external id its lookup already returns the user (2); it "
                 "writes every row, unchanged or not.\n")
        rows = []
        for c in e["cases"]:
            t = TARGETS["per_user"].get(c["case"])
            if c["case"].startswith("unchanged"):
                ok = c["writes"] == 0 and c["unchanged"] == c["rows"]
                target = "0 writes"
            else:
                ok = None if t is None else (c["per_updated"] is not None and c["per_updated"] <= t
                                             and c["dead"] == 0)
                target = f"≤ {t}" if t else "–"
            routes = ", ".join(f"{k} {v:,}" for k, v in sorted(c["routes"].items()))
            rows.append([c["case"], f(c["rows"]), f(c["updated"]), f(c["unchanged"]), f(c["dead"]),
                         f(c["api_requests"]), c["token_requests"], f(c["writes"]),
                         f"**{f(c['per_updated'], 3)}**" if c["per_updated"] else "–", f(c["per_row"], 3),
                         NAIVE.get(c["case"], "–"), target, mark(ok), routes])
        s.append(table(["key", "rows", "updated", "unchanged", "dead", "API requests", "token requests", "writes",
                        "requests / updated user", "requests / row", "naive loop / row", "target", "met",
                        "requests by route"], rows))
    return "\n".join(s)


def queue_section(e: dict, plots: dict) -> str:
    s = ["## 4. Queue overhead\n", measured_line(e), error_block(e)]
    if e.get("runs"):
        s.append("Look-alike without limit or latency, a budget no run reaches (so the fleet budget still costs "
                 "its Redis round trip per request, as in production), id-keyed title changes in chunks of 50. "
                 "*End to end*: from starting the workers to the batch's last outcome (`finished_at`, Redis "
                 "clock), start-up included. The look-alike, Redis and the workers share the two cores. *Redis "
                 "commands* is the `INFO commandstats` delta over the run (commands run inside Lua scripts "
                 "included; the harness' own polling and `INFO` taken out) ÷ items; *scripts* counts "
                 "`EVALSHA`/`EVAL` alone. The Redis is shared with other work: *background* is the command rate "
                 "other clients caused in the second before the run. CPU seconds are user + system from the "
                 "kernel's rusage of each process at its exit (Redis: `INFO cpu`, which includes other clients' work); peak RSS is its `VmHWM` (`/proc/<pid>/status`, sampled every 0.1 s until it exits). *CPU ceiling* is what the CPUs could carry at that cost if nothing else ran: CPUs × 10,000 ÷ (worker + look-alike + Redis CPU seconds per 10,000 items). *Other CPU use* is what else kept the CPUs busy during the run (`/proc/stat` busy time less the workers, the look-alike, Redis and the harness), in cores: on a shared machine, the part of the two cores the run did not have.\n")
        rows = []
        for r in e["runs"]:
            all_cpu = r["worker_cpu_per_10k"] + r["mock_cpu_per_10k"] + r["redis_cpu_per_10k"]
            rows.append([r["workers"], r["concurrency"], f(r["items"]), f"{r['elapsed_secs']:.2f}",
                         f"**{r['items_per_sec']:,.0f}**", mark(r["items_per_sec"] >= TARGETS["items_per_sec"]),
                         f(r["redis_commands_per_item"]), f(r["scripts_per_item"]),
                         f"{r['background_commands_per_sec']:,}", f(r["worker_cpu_per_10k"]),
                         f(r["mock_cpu_per_10k"]), f(r["redis_cpu_per_10k"]),
                         f"{e.get('nproc', 2) * 10_000 / all_cpu:,.0f}" if all_cpu > 0 else "n/a",
                         f"{r['worker_peak_rss_mb']:.1f}", mark(r["worker_peak_rss_mb"] <= TARGETS["worker_rss_mb"]),
                         f(r.get("other_cpu_cores")), r["load1"]])
        s.append(table(["workers", "concurrency", "items", "seconds", "items/s", "≥ 5,000/s",
                        "Redis commands/item", "scripts/item", "background cmds/s", "worker CPU s / 10k items",
                        "look-alike CPU s / 10k", "Redis CPU s / 10k", "CPU ceiling items/s",
                        "worker peak RSS MB", "≤ 40 MB", "other CPU use (cores)", "load at start"], rows))
        top = e["runs"][0]["top_commands"]
        s.append("\nCommands per item in the first run, most frequent first: "
                 + ", ".join(f"`{k}` {v:.2f}" for k, v in top) + ".\n")
    return "\n".join(s)


def enqueue_section(e: dict, plots: dict) -> str:
    s = ["## 5. Enqueue\n", measured_line(e), error_block(e)]
    if e.get("runs"):
        s.append("`gcbulk enqueue FILE --json` of a generated CSV of id-keyed title changes (chunks of 50), wall "
                 "time from process start to exit, CPU seconds and peak RSS from `/usr/bin/time` (maximum resident set size). The file is read "
                 "twice (validate everything, then enqueue); the dry run shows the validation pass alone.\n")
        rows = [[f(r["rows"]), "yes" if r["dry_run"] else "no", f"{r['file_mb']:.0f}", f"{r['wall_secs']:.2f}",
                 f"**{r['rows_per_sec']:,.0f}**", f"{r['cpu_secs']:.2f}", f"**{r['peak_rss_mb']:.1f}**",
                 mark(None if r["dry_run"] or r["rows"] < 1_000_000
                      else r["rows_per_sec"] >= TARGETS["enqueue_rows_per_sec"]),
                 mark(r["peak_rss_mb"] <= TARGETS["enqueue_rss_mb"])] for r in e["runs"]]
        s.append(table(["rows", "--dry-run", "file MB", "wall s", "rows/s", "CPU s", "peak RSS MB",
                        "≥ 200,000 rows/s", "≤ 64 MB"], rows))
    return "\n".join(s)


def recovery_section(e: dict, plots: dict) -> str:
    s = ["## 6. Recovery\n", measured_line(e), error_block(e)]
    if e.get("reps"):
        s.append(f"Workers run with `GCBULK_CLAIM_IDLE_SECS={e['claim_idle_secs']}` (leases renewed every third "
                 "of it). A batch of 4 chunks × 25 users is taken by one worker (`--concurrency 4`) while the "
                 "look-alike holds every API request, so the worker dies holding all four; a second worker is "
                 "started and idle; the first is killed with SIGKILL and the look-alike's latency set back to 0, "
                 "so the re-run itself costs milliseconds and the figure is the time to notice and take over. "
                 "*Kill → takeover* is the survivor's first `took over a job` log line; *kill → done* is the "
                 "batch's last outcome (`finished_at`). The kill falls at a different point of the victim's "
                 "lease-renewal cycle in each run (renewals every third of the idle timeout, the first one "
                 f"{e['claim_idle_secs'] / 3:.2f} s after it took the chunks): run 1 just after the first renewal, "
                 "the worst moment to die; run 2 before it; run 3 2 s after it. *Lease age* is the idle time Redis reports "
                 "for the victim's entries just before the kill (`XPENDING … IDLE`): they become claimable when it "
                 "reaches the idle timeout, and the rest of the wait is how long the survivor took to notice.\n")
        def detection(r):
            if r.get("lease_age_at_kill_secs") is None or r["kill_to_takeover_secs"] is None:
                return None
            return r["kill_to_takeover_secs"] - (e["claim_idle_secs"] - r["lease_age_at_kill_secs"])

        rows = [[r["rep"], f(r.get("kill_after_held_secs")), f(r.get("lease_age_at_kill_secs")),
                 f(e["claim_idle_secs"] - r["lease_age_at_kill_secs"]) if r.get("lease_age_at_kill_secs") is not None
                 else "n/a", f(detection(r)), f(r["kill_to_takeover_secs"]),
                 f"**{r['kill_to_done_secs']:.2f}**",
                 f(r["updated"]), r["dead"], mark(r["kill_to_done_secs"] <= e["target_secs"])] for r in e["reps"]]
        s.append(table(["run", "killed s after it held the chunks", "lease age at the kill s",
                        "kill → claimable s", "claimable → taken over s", "kill → takeover s", "kill → done s",
                        "updated", "dead",
                        f"≤ {e['target_secs']} s"], rows))
    return "\n".join(s)


REPRODUCE = """## How to reproduce each figure

All of it: `make bench` (builds the release binary, then `scripts/bench.sh`; about eight minutes). One scenario:
`scripts/bench.sh --only N` (N = 1–6, comma-separated for several; the other sections keep their figures).
`scripts/bench.sh --quick` runs everything small into a temporary directory, to check the harness;
`--render` rewrites this page and the plots from `docs/benchmarks/results.json` without measuring. Keep the
machine otherwise idle: the look-alike, Redis and the workers share its cores. Each scenario uses its own Redis
namespace (`bench-<run>-<scenario>`) and deletes its keys afterwards. By hand, with `gcbulk` the release binary
and the worker environment of `scripts/demo.sh` (`GENESYS_API_URL`/`GENESYS_LOGIN_URL` = the look-alike,
`GENESYS_CLIENT_ID=gcbulk-demo`, `GENESYS_CLIENT_SECRET=gcbulk-demo-secret`, a fresh `GCBULK_NAMESPACE`):

1. **Budget utilisation.** `gcbulk mock-genesys --addr 127.0.0.1:0 --ready-file F --users 2050 --rate-limit 50
   --window 1 --latency-ms 50 --latency-jitter-ms 25`; enqueue a CSV `id,title` for users 1–2050; start N ∈ {1, 2, 4}
   × `gcbulk worker --rate-limit 3000 --concurrency 4` right after `POST /__mock/stats/reset`; 26 s later
   `GET /__mock/stats` (`timeline[].ok` per second, `throttled`) and stop the workers. Utilisation = mean `ok` over
   the seconds from the third with traffic to the last whole one ÷ 50. Same for 30 s with `--users 550
   --rate-limit 100 --window 10` and workers at `--rate-limit 600`.
2. **Limit change.** As 1 with 2 workers and more users than the run reaches; after 15 s `POST /__mock/limit
   {"rate_limit":25,"window_secs":1}`, after 30 s more `{"rate_limit":50,"window_secs":1}`, 20 s later stop the
   workers (SIGTERM) and read `timeline` (429s per second) and `throttled`.
3. **Requests per user.** `gcbulk mock-genesys … --users 40000 --rate-limit 0`; four batches of 10,000 rows:
   `id,title` (users 1–10,000), `email,title` (`user<n>@example.com`, 10,001–20,000), `external_id,title`
   (`ext-<n>`, 20,001–30,000, workers with `GENESYS_EXTERNAL_ID_AUTHORITY=gcbulk-demo`), and `id,name,title,
   department` copied from `GET /__mock/users` (30,001–40,000). For each: reset the stats, 2 × `gcbulk worker
   --exit-when-idle --rate-limit 100000000 --concurrency 8`, then `api_requests` ÷ `updated` (from `gcbulk status
   BATCH --json`) and `writes`.
4. **Queue overhead.** `gcbulk mock-genesys … --users 40000 --rate-limit 0`, a batch of 40,000 `id,title` rows,
   `redis-cli INFO commandstats` before and after, then 1 or 2 × `gcbulk worker --exit-when-idle --rate-limit
   100000000 --concurrency C` (C = 4, 8, 16) under `/usr/bin/time -v` (user + system seconds, maximum resident set size); items/s
   = 40,000 ÷ (the batch's `finished_at` in `{ns}:batch:<id>` − the workers' start).
5. **Enqueue.** A CSV `id,title` of 1,000,000 (and 100,000) rows; `/usr/bin/time -v gcbulk enqueue FILE --json`
   (elapsed, maximum resident set size); also with `--dry-run`.
6. **Recovery.** `gcbulk mock-genesys … --users 100 --rate-limit 0`; `gcbulk enqueue --chunk-size 25` 100 rows;
   `POST /__mock/faults` with `latency_ms` 20000; `GCBULK_CLAIM_IDLE_SECS=10 gcbulk worker --concurrency 4`
   until `XPENDING {ns}:jobs workers` shows 4; start a second worker the same way; `kill -9` the first (2 s
   after, or just after its first lease renewal 3.3 s after it took the chunks: `XPENDING {ns}:jobs workers - + 10`
   shows the idle times reset), set `latency_ms` back to 0, and time until `finished_at` appears in
   `{ns}:batch:<id>`.

Every figure on this page is in `docs/benchmarks/results.json` (every measured value, per-second timelines
included), written with the page.
"""
