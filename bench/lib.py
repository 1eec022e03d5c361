"""Plumbing of the gcbulk benchmark: processes, the look-alike's admin API, a tiny Redis client, the machine.

Standard library only. Everything talks to 127.0.0.1: the look-alike listens there, and the Redis URL is refused
unless it points there too.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}

# The look-alike's built-in demo credentials; they open nothing anywhere else.
CLIENT_ID = "gcbulk-demo"
CLIENT_SECRET = "gcbulk-demo-secret"
AUTHORITY = "gcbulk-demo"
# A budget no run reaches: the fleet budget still takes its Redis round trip per request, as in production.
UNLIMITED_PER_MINUTE = 100_000_000


class BenchError(Exception):
    """A run that could not be measured (a process died, a deadline passed)."""


def user_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


# ---------------------------------------------------------------------------------------------------------------
# Processes


class Proc:
    """A child process whose exit status and resource usage (rusage: CPU seconds, peak RSS) are collected."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, registry: "Procs",
                 stdout_path: Path | None = None, hwm_every: float = 0.1):
        self.name = name
        self.log_path = log
        self._log = open(log, "wb")
        # stdout and stderr go to the log, unless stdout is wanted apart (a command's answer).
        self._out = open(stdout_path, "wb") if stdout_path else None
        self.started = time.time()
        self.p = subprocess.Popen(argv, env=env, stdout=self._out or self._log,
                                  stderr=self._log if self._out else subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        self.pid = self.p.pid
        # A pidfd signals this process and never a later one that reused its pid.
        self._pidfd = os.pidfd_open(self.pid) if hasattr(os, "pidfd_open") else None
        self.exit: int | None = None
        self.ended: float | None = None
        self.rusage = None
        self._done = threading.Event()
        self.hwm_kb = 0
        registry.add(self)
        threading.Thread(target=self._reap, daemon=True).start()
        threading.Thread(target=self._sample_hwm, args=(hwm_every,), daemon=True).start()

    def _sample_hwm(self, every: float) -> None:
        # VmHWM is the peak RSS of the process' own memory since its exec. (rusage's ru_maxrss is not usable here:
        # a child of Python inherits the parent's peak at exec.) It only grows, so the last look before the exit
        # is the peak, short of growth in the final `every` seconds.
        status = Path(f"/proc/{self.pid}/status")
        while self.alive():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.hwm_kb = max(self.hwm_kb, int(line.split()[1]))
                        break
            except (OSError, ValueError, IndexError):
                pass
            self._done.wait(every)

    def _reap(self) -> None:
        _, status, usage = os.wait4(self.pid, 0)
        self.ended = time.time()
        self.rusage = usage
        self.exit = os.waitstatus_to_exitcode(status)
        self.p.returncode = self.exit
        self._log.close()
        if self._out:
            self._out.close()
        self._done.set()

    def alive(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def signal(self, sig: int) -> None:
        if not self.alive():
            return
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            else:
                os.kill(self.pid, sig)
        except (ProcessLookupError, OSError):
            pass

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        self.signal(signal.SIGTERM)
        if not self.wait(grace):
            self.signal(signal.SIGKILL)
            self.wait(5)

    def cpu_seconds(self) -> float:
        """User + system CPU seconds: from rusage once exited, from /proc while running."""
        if self.rusage is not None:
            return self.rusage.ru_utime + self.rusage.ru_stime
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def peak_rss_mb(self) -> float:
        """Peak resident set size (VmHWM, sampled), in MB (10^6 bytes)."""
        return self.hwm_kb * 1024 / 1e6 if self.hwm_kb else float("nan")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Procs:
    """Every process the benchmark started, so that each one is stopped whatever happens."""

    def __init__(self, pid_file: Path):
        self.all: list[Proc] = []
        self.pid_file = pid_file

    def add(self, proc: Proc) -> None:
        self.all.append(proc)
        with open(self.pid_file, "a") as f:  # scripts/bench.sh kills these ids if this process dies hard
            f.write(f"{proc.pid}\n")

    def stop_all(self) -> None:
        alive = [p for p in self.all if p.alive()]
        for p in alive:
            p.signal(signal.SIGTERM)
        deadline = time.time() + 5
        for p in alive:
            if not p.wait(max(0.0, deadline - time.time())):
                p.signal(signal.SIGKILL)
                p.wait(2)
        if all(not p.alive() for p in self.all):
            self.pid_file.write_text("")  # every one reaped: nothing for scripts/bench.sh to kill


def run_capture(name: str, argv: list[str], env: dict[str, str], work: Path, procs: Procs,
                timeout: float = 300, hwm_every: float = 0.1) -> tuple[Proc, str, float]:
    """Runs a command to its end (exit 0 required); returns it (rusage inside), its stdout and its wall time."""
    out_path = work / f"{name}.stdout"
    t0 = time.perf_counter()
    proc = Proc(name, argv, env, work / f"{name}.log", procs, stdout_path=out_path, hwm_every=hwm_every)
    if not proc.wait(timeout):
        proc.stop()
        raise BenchError(f"{name} did not finish within {timeout:.0f} s")
    wall = time.perf_counter() - t0
    if proc.exit != 0:
        raise BenchError(f"{name} exited {proc.exit}: {proc.tail()}")
    return proc, out_path.read_text(errors="replace"), wall


def gnu_time(argv: list[str], out: Path) -> list[str]:
    """argv under /usr/bin/time (exact peak RSS and CPU of a short command), when it is installed."""
    if not os.access("/usr/bin/time", os.X_OK):
        return argv
    return ["/usr/bin/time", "-o", str(out), "-f", "%e %U %S %M", *argv]


def read_gnu_time(out: Path) -> dict | None:
    """{cpu_secs, peak_rss_mb} from a gnu_time output file, None when there is none."""
    try:
        wall, user, system, max_kb = out.read_text().split()[-4:]
        return {"cpu_secs": float(user) + float(system), "peak_rss_mb": int(max_kb) * 1024 / 1e6}
    except (OSError, ValueError):
        return None


def clean_env() -> dict[str, str]:
    """The environment for children: no proxy settings (everything is on 127.0.0.1), quiet logs."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["no_proxy"] = "127.0.0.1,localhost"
    env.setdefault("RUST_LOG", "info")
    env["GCBULK_LOG"] = "text"
    return env


# ---------------------------------------------------------------------------------------------------------------
# The look-alike


_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Mock:
    """`gcbulk mock-genesys` on a free port of 127.0.0.1, and its `/__mock/` admin API."""

    def __init__(self, ctx, name: str, users: int, rate_limit: int, window: float = 60.0,
                 latency_ms: int = 0, jitter_ms: int = 0):
        self.args = dict(users=users, rate_limit=rate_limit, window=window, latency_ms=latency_ms,
                         jitter_ms=jitter_ms)
        ready = ctx.work / f"{name}.addr"
        ready.unlink(missing_ok=True)  # never read an address left by an earlier look-alike of that name
        argv = [ctx.bin, "mock-genesys", "--addr", "127.0.0.1:0", "--ready-file", str(ready),
                "--users", str(users), "--rate-limit", str(rate_limit), "--window", str(window),
                "--latency-ms", str(latency_ms), "--latency-jitter-ms", str(jitter_ms)]
        self.proc = Proc(name, argv, clean_env(), ctx.work / f"{name}.log", ctx.procs)
        deadline = time.time() + 60
        addr = ""
        while time.time() < deadline:
            if ready.exists():
                addr = ready.read_text().strip()
                if addr.rsplit(":", 1)[-1].isdigit():
                    break
            if not self.proc.alive():
                raise BenchError(f"the look-alike exited: {self.proc.tail()}")
            time.sleep(0.05)
        else:
            raise BenchError("the look-alike did not write its ready file within 60 s")
        host = addr.split("://")[-1].rsplit(":", 1)[0].strip("[]")
        if host not in LOCAL_HOSTS:
            raise BenchError(f"the look-alike listens on {addr}, not on 127.0.0.1")
        self.base = addr if addr.startswith("http") else f"http://{addr}"

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with _HTTP.open(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def stats(self) -> dict:
        return self._call("GET", "/__mock/stats")

    def reset_stats(self) -> None:
        self._call("POST", "/__mock/stats/reset")

    def set_limit(self, rate_limit: int, window_secs: float) -> None:
        self._call("POST", "/__mock/limit", {"rate_limit": rate_limit, "window_secs": window_secs})

    def faults(self) -> dict:
        return self._call("GET", "/__mock/faults")

    def set_faults(self, faults: dict) -> None:
        self._call("POST", "/__mock/faults", faults)

    def users(self) -> list[dict]:
        return self._call("GET", "/__mock/users")

    def stop(self) -> None:
        self.proc.stop()


# ---------------------------------------------------------------------------------------------------------------
# Redis


class Redis:
    """A minimal RESP2 client (one connection) that counts the commands it sends, so that benchmarks can take
    their own polling out of Redis' command statistics."""

    def __init__(self, url: str):
        u = urllib.parse.urlparse(url)
        if u.scheme != "redis":
            raise BenchError(f"the benchmark needs a plain redis:// URL on 127.0.0.1, not {u.scheme}://")
        host = u.hostname or "127.0.0.1"
        if host not in LOCAL_HOSTS:
            raise BenchError(f"the benchmark talks only to 127.0.0.1; GCBULK_REDIS_URL points at {host}")
        self.sock = socket.create_connection((host, u.port or 6379), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")
        self.sent: dict[str, int] = {}
        if u.password:
            user = urllib.parse.unquote(u.username) if u.username else None
            password = urllib.parse.unquote(u.password)
            self.cmd(*(["AUTH", user, password] if user else ["AUTH", password]))
        db = (u.path or "/").strip("/")
        if db:
            self.cmd("SELECT", db)

    def cmd(self, *args):
        name = str(args[0]).upper()
        self.sent[name] = self.sent.get(name, 0) + 1
        parts = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(parts))
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise BenchError("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise BenchError(f"Redis: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise BenchError(f"unexpected Redis reply {line!r}")

    def mine(self) -> int:
        """Commands this client sent, INFO excluded (INFO is left out of the command counts altogether)."""
        return sum(n for name, n in self.sent.items() if name != "INFO")

    def info(self, section: str) -> dict[str, str]:
        out = {}
        for line in self.cmd("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def command_calls(self) -> dict[str, int]:
        """Calls per command from INFO commandstats (Lua-internal calls included; INFO itself left out)."""
        calls = {}
        for key, value in self.info("commandstats").items():
            name = key.removeprefix("cmdstat_")
            if name == "info":
                continue
            fields = dict(kv.split("=", 1) for kv in value.split(","))
            calls[name] = int(fields.get("calls", 0))
        return calls

    def cpu_seconds(self) -> float:
        cpu = self.info("cpu")
        return float(cpu.get("used_cpu_user", 0)) + float(cpu.get("used_cpu_sys", 0))

    def delete_namespace(self, ns: str) -> int:
        """Deletes every key under the hash tag of `ns` (everything gcbulk writes there)."""
        cursor, deleted = "0", 0
        while True:
            cursor, keys = self.cmd("SCAN", cursor, "MATCH", f"{{{ns}}}:*", "COUNT", 1000)
            if keys:
                deleted += self.cmd("DEL", *keys)
            if cursor == "0":
                return deleted

    def batch(self, ns: str, batch: str) -> dict:
        fields = ["items", "updated", "unchanged", "dead", "finished_at"]
        values = self.cmd("HMGET", f"{{{ns}}}:batch:{batch}", *fields)
        out = {k: (int(v) if v is not None else None) for k, v in zip(fields, values)}
        for k in ("items", "updated", "unchanged", "dead"):
            out[k] = out[k] or 0
        return out


def calls_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)
            if after.get(k, 0) - before.get(k, 0) > 0}


# ---------------------------------------------------------------------------------------------------------------
# The machine


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) * 1024 / 2**30
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or "unknown",
        "ram_gib": round(mem_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpu_busy_secs() -> float:
    """CPU seconds spent busy since boot, all CPUs together (/proc/stat: user, nice, system, irq, softirq,
    steal)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def own_cpu_secs() -> float:
    """CPU seconds of this process (the harness) so far, all its threads."""
    t = os.times()
    return t.user + t.system


def load1() -> float:
    return round(os.getloadavg()[0], 2)
