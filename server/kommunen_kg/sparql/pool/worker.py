"""The life of the zygote and of the query workers it forks: single-threaded, limited, mute.

See the package's docstring for why a zygote, and what every child closes and ignores."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import select
import signal
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from typing import BinaryIO, NoReturn

from kommunen_kg.sparql.engine import (
    EmbeddedEngine,
    QueryRequest,
    is_engine_failure,
)
from kommunen_kg.sparql.errors import EngineUnavailable, QueryError
from kommunen_kg.sparql.pool.wire import PID, recv_blocking, recv_exact_blocking, send_message

_PR_SET_NAME = 15
_PR_SET_PDEATHSIG = 1
# Added to a worker's wait status when its last words (its stderr) say the engine panicked: an
# abort is otherwise the memory limit, and the two need different advice.
PANIC = 1 << 20
# ... and when they say an allocation failed: the memory limit (RLIMIT_AS) was reached.
OUT_OF_MEMORY = 1 << 21
REAP_EVERY = 1.0  # seconds an ended worker may stay a zombie before the zygote reaps it
REAP_WAIT = 1.0  # seconds to wait for a killed worker to be gone before answering
_ENDINGS_KEPT = 256  # how many ended workers the zygote remembers until the server asks

_LIBC: ctypes.CDLL | None = None  # Linux: ask the kernel to kill a child when its parent dies
if sys.platform == "linux":
    with contextlib.suppress(OSError):
        _LIBC = ctypes.CDLL(None, use_errno=True)


def _become_child(keep: int, parent_pid: int, name: bytes) -> None:
    """Makes a freshly forked process safe to run on its own (see the module docstring).

    Runs first thing after ``fork()``: no logging, no locks, nothing that another thread of
    the parent could have held.
    """
    signal.set_wakeup_fd(-1)
    for signame in ("SIGTERM", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCHLD"):
        if hasattr(signal, signame):
            signal.signal(getattr(signal, signame), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
    # Everything else the parent had open (client connections, the listening socket, log
    # files, other workers' sockets) is closed, so that this process holds none of it.
    os.closerange(3, keep)
    os.closerange(keep + 1, _max_fd())
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _LIBC.prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)  # for ps -o comm, top
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(0)
    # Inherited Python objects (sockets, files) now name closed descriptors; never let the
    # garbage collector finalise them, or it would close a number reused by our own socket.
    gc.freeze()


def _max_fd() -> int:
    try:
        import resource

        return max(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1024)
    except (ImportError, ValueError, OSError):  # pragma: no cover
        return 65536


def _limit_memory(megabytes: int) -> None:
    """Caps this worker's address space at its present size plus ``megabytes``.

    The shared store is already mapped, so the cap is what one query may allocate on top.
    An allocation beyond it fails and the worker dies; the server answers with an error.
    """
    if megabytes <= 0:
        return
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = size + megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):  # pragma: no cover
        pass


@dataclass(frozen=True)
class WorkerLimits:
    """What a query worker is allowed, in MB: see QueryPool."""

    memory_limit: int


def _serve_queries(sock: socket.socket, engine: EmbeddedEngine, limits: WorkerLimits) -> None:
    """The query worker's loop: one request in, one answer out, until the socket closes.

    Each answer says how many bytes of pages this worker has made its own so far (the server
    decides whether to replace it, see QueryPool). pyoxigraph's in-memory store writes to the
    pages it reads (reference counts), so a query that scans the store copies those
    copy-on-write pages into the worker; a fresh worker shares them again. Minor page faults
    count the pages it has touched (an upper bound, cheap to read; the exact figure in
    /proc/self/smaps_rollup takes milliseconds).
    """
    _limit_memory(limits.memory_limit)
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    start_faults = _minor_faults()
    while True:
        message = recv_blocking(sock)
        if message is None:
            os._exit(0)
        try:
            request: QueryRequest = pickle.loads(message)
            reply: tuple = ("ok", engine.evaluate(request))
        except MemoryError:
            reply = ("error", _memory_error(limits.memory_limit))
        except QueryError as exc:
            reply = ("error", exc)
        except BaseException as exc:
            if not is_engine_failure(exc):
                raise
            # Of a kind nobody expected: the server logs it (this process must not), with
            # the traceback from here.
            reply = ("unexpected", (type(exc).__name__, str(exc), traceback.format_exc()))
        spool = None
        if reply[0] == "ok" and len(reply[1].body) > SPOOL_AT:
            try:
                spool = _spool(reply[1].body)
                reply = ("ok", replace(reply[1], body=b"", spooled=len(reply[1].body)))
            except OSError as exc:
                full = EngineUnavailable(f"The server has no room for the answer: {exc}")
                reply = ("error", full)
        copied = (_minor_faults() - start_faults) * page
        try:
            payload = pickle.dumps((*reply, copied), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("error", _memory_error(limits.memory_limit), _EXHAUSTED))
        except Exception:  # an exception that does not pickle: keep its words
            payload = pickle.dumps(("error", QueryError(str(reply[1])), copied))
        if spool is None:
            send_message(sock, payload)
        else:
            with spool:
                send_message(sock, payload, (spool.fileno(),))


SPOOL_AT = 1024 * 1024  # answers larger than this go to the server as a file, not as bytes


def _spool(body: bytes) -> BinaryIO:
    """``body`` in an unlinked temporary file, read from its start: the server process gets
    the file itself (its descriptor), streams it to the client and never holds it in memory;
    this worker is free for the next query as soon as the file is written."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    try:
        spool.write(body)
        spool.flush()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


_EXHAUSTED = 1 << 62  # "copied" of a worker that ran out of memory: replace it


def resident_bytes() -> int:
    """This process's resident memory: what a query worker forked from it could copy."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0


def _minor_faults() -> int:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    except ImportError:  # pragma: no cover
        return 0


def _memory_error(memory_limit: int) -> EngineUnavailable:
    return EngineUnavailable(
        f"The query needed more memory than the limit of {memory_limit} MB per query and "
        "was stopped. Narrow it down (LIMIT, more specific patterns, no ORDER BY over a "
        "large result)."
    )


def child_main(main, *args) -> NoReturn:
    """Runs a child's ``main`` and exits; it never returns into the code that forked it.

    A failure is written to stderr with ``os.write``: Python's stream and logging locks may be
    held by a thread of the parent that does not exist here.
    """
    code = 0
    try:
        main(*args)
    except BaseException:
        code = 1
        with contextlib.suppress(BaseException):
            text = f"kommunen-kg query pool (pid {os.getpid()}):\n" + traceback.format_exc()
            os.write(2, text.encode("utf-8", "replace"))
    os._exit(code)


def _worker_main(
    sock: socket.socket,
    zygote: int,
    engine: EmbeddedEngine,
    limits: WorkerLimits,
    words_folder: str,
) -> None:
    # What the engine writes before it aborts (a panic, or an allocation beyond the limit) goes
    # to a file of this worker's in the pool's folder; the zygote reads it when it reaps us.
    with contextlib.suppress(OSError):
        words = os.open(_words_file(words_folder, os.getpid()), os.O_WRONLY | os.O_CREAT, 0o600)
        os.dup2(words, 2)
        os.close(words)
    _become_child(sock.fileno(), zygote, b"kkg-query")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _serve_queries(sock, engine, limits)


def _words_file(folder: str, pid: int) -> str:
    return os.path.join(folder, str(pid))


def _classify(status: int, words_folder: str, pid: int) -> int:
    """``status``, marked with :data:`PANIC` when the worker's last words are a panic, with
    :data:`OUT_OF_MEMORY` when they are a failed allocation; the words are shown on the
    zygote's stderr (the server's), and their file removed."""
    path = _words_file(words_folder, pid)
    try:
        with open(path, "rb") as f:
            words = f.read(64 * 1024)
        os.unlink(path)
    except OSError:
        return status
    if words:
        with contextlib.suppress(OSError):
            first = words.strip().splitlines()[:2]
            os.write(2, b"kommunen-kg query worker %d: %s\n" % (pid, b" / ".join(first)[:500]))
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT:
        if b"panicked" in words:
            return status | PANIC
        if b"memory allocation of" in words or b"MemoryError" in words:
            return status | OUT_OF_MEMORY
    return status


def zygote_main(
    control: socket.socket,
    parent: int,
    engine: EmbeddedEngine,
    limits: WorkerLimits,
    words_folder: str,
) -> None:
    """The zygote's loop: ``F`` asks for one new query worker, ``S`` and a pid how one ended.

    The zygote is the parent of every query worker, so only it can learn how one ended (a
    crash, the memory limit, a kill); the server asks when a worker died while answering, so
    that the client hears the cause. Workers that ended are reaped at each command, and at
    least every ``REAP_EVERY`` seconds.
    """
    _become_child(control.fileno(), parent, b"kkg-zygote")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ended workers wait to be reaped here
    me = os.getpid()
    ended: dict[int, int] = {}  # pid -> wait status, of workers reaped but not yet asked for
    while True:
        # Wait for a command at most a second: workers the server retired or killed are reaped
        # meanwhile, instead of staying zombies until the next command.
        readable, _, _ = select.select([control], [], [], REAP_EVERY)
        _reap(ended, words_folder)
        if not readable:
            continue
        command = control.recv(1)
        if not command:
            os._exit(0)
        if command == b"S":
            asked = recv_exact_blocking(control, PID.size)
            if asked is None:
                os._exit(0)
            control.sendall(PID.pack(_ending(PID.unpack(asked)[0], ended, words_folder)))
            continue
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.detach()
            control.detach()
            child_main(_worker_main, theirs, me, engine, limits, words_folder)
        theirs.close()
        fds = [ours.fileno()]
        pidfd = None
        with contextlib.suppress(OSError, AttributeError):
            pidfd = os.pidfd_open(pid)
            fds.append(pidfd)
        socket.send_fds(control, [PID.pack(pid)], fds)
        ours.close()
        if pidfd is not None:
            os.close(pidfd)


def _reap(ended: dict[int, int], words_folder: str) -> None:
    """Reaps every worker that has ended, keeping how it ended (the last few hundred)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ended[pid] = _classify(status, words_folder, pid)
        while len(ended) > _ENDINGS_KEPT:
            del ended[next(iter(ended))]


def _ending(pid: int, ended: dict[int, int], words_folder: str) -> int:
    """The wait status of worker ``pid`` once it has ended (waiting briefly), else -1."""
    deadline = time.monotonic() + REAP_WAIT
    while pid not in ended:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        if done:
            return _classify(status, words_folder, pid)
        if time.monotonic() >= deadline:
            return -1
        time.sleep(0.01)
    return ended.pop(pid)


def ending_message(status: int | None, memory_limit: int) -> str:
    """Why a query worker stopped while answering, from its wait status, for the client.

    Only an abort is the memory limit (an allocation beyond it makes the engine abort); a
    segmentation fault is the engine crashing on the query (a structure nested too deep), and
    saying "memory" then would send the client looking in the wrong place.
    """
    start = "The query worker stopped while answering"
    if status is not None and status & PANIC:
        return (
            "The query engine failed on this query with an internal error (a panic in "
            "pyoxigraph), not for lack of memory or time; asking again gives the same. Rewrite "
            "the query: ORDER BY over values of different kinds (numbers, dates and strings "
            "mixed) is known to do this."
        )
    if status is None:
        return (
            f"{start}, for a reason the server could not learn (it may be shutting down). Try "
            "again; if it happens again, narrow the query down."
        )
    if os.WIFEXITED(status):
        return (
            f"{start}: it exited with code {os.WEXITSTATUS(status)}. Try again; if it happens "
            "again, narrow the query down."
        )
    number = os.WTERMSIG(status)
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGABRT and status & OUT_OF_MEMORY:
        limit = (
            f"more than the memory limit of {memory_limit} MB per query"
            if memory_limit > 0
            else "more memory than the server has"
        )
        return (
            f"{start}: the query needed {limit}, and the engine stopped ({name}). Narrow it "
            "down (LIMIT, more specific patterns, no ORDER BY over a large result)."
        )
    if number == signal.SIGABRT:
        return (
            f"{start}: the query engine aborted ({name}) without saying why; most often a "
            f"query needs more than the memory limit of {memory_limit} MB. Narrow it down "
            "(LIMIT, more specific patterns, no ORDER BY over a large result)."
        )
    if number == signal.SIGKILL:
        return (
            f"{start}: it was killed ({name}), by the server shutting down or by the operating "
            "system, which does so when it runs short of memory. Try again shortly."
        )
    if number in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE):
        return (
            f"{start}: the query engine crashed on this query ({name}); it did not run out of "
            "memory. Structures nested very deep make it crash: write the query flatter."
        )
    return f"{start}: it was stopped by {name}. Try again shortly."
