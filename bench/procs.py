"""Starting, measuring and stopping the server processes the benchmark runs.

Each server runs in a session of its own, so that stopping it reaches its workers too and
nothing else. Memory is read from /proc: RSS counts shared pages once per process (so a
pre-forked server looks bigger than it is), PSS divides shared pages among the processes that
share them, so PSS summed over a server's processes is its real footprint.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(command: list[str], log: Path, cwd: Path | None = None, env: dict | None = None):
    """Starts ``command`` in its own session, output into ``log``."""
    handle = open(log, "ab")  # noqa: SIM115 - closed by stop()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    process._bench_log = handle  # type: ignore[attr-defined]
    return process


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGINT to the server's own process group, then SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
    # Workers that outlive their master (they should not) go with the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    log = getattr(process, "_bench_log", None)
    if log is not None:
        log.close()


def wait_for(check: Callable[[], bool], timeout: float, process=None, what: str = "") -> float:
    """Polls ``check`` until true; returns the seconds it took. Fails if the process died."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what or 'server'} exited with code {process.returncode}")
        try:
            if check():
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what or 'server'} not ready within {timeout:.0f} s")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, ()))
    return found


def rollup(pid: int | str) -> dict[str, int]:
    """The fields of ``/proc/PID/smaps_rollup`` in bytes, by lowercased name (``rss``, ``pss``,
    ``private_dirty``, ``anonymous``, ...); empty for a process that is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                values[parts[0][:-1].lower()] = int(parts[1]) * 1024
    except OSError:
        pass
    return values


@dataclass
class Memory:
    """Memory of a server's processes, in MiB."""

    processes: int
    rss_mib: float
    pss_mib: float
    per_process_pss_mib: list[float]

    def to_json(self) -> dict:
        return {
            "processes": self.processes,
            "rss_mib": round(self.rss_mib, 1),
            "pss_mib": round(self.pss_mib, 1),
            "per_process_pss_mib": [round(v, 1) for v in self.per_process_pss_mib],
        }


def memory(pid: int) -> Memory:
    pids = tree(pid)
    rollups = [rollup(p) for p in pids]
    mib = 1024 * 1024
    return Memory(
        processes=len([r for r in rollups if r]),
        rss_mib=sum(r.get("rss", 0) for r in rollups) / mib,
        pss_mib=sum(r.get("pss", 0) for r in rollups) / mib,
        per_process_pss_mib=[r.get("pss", 0) / mib for r in rollups if r],
    )


def loadavg() -> list[float]:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []
