"""Untrusted SPARQL queries in worker processes that can be killed when their time is up.

WHY: pyoxigraph cannot cancel a running query. A thread that runs a runaway query (a cross
product, an exploding property path) keeps its CPU until the query ends, which may be never.
The only reliable way to stop it is to run it in a process of its own and kill that process.
Forking is cheap here because the store lives in memory: a process forked after the store is
loaded shares its pages copy-on-write, so a fresh query worker costs little memory.

pyoxigraph writes reference counts into the store pages a query reads, so a worker copies the
pages it touches, once: its first query over much of the store is 2-3 times slower than the
next (measured: 40 ms then 19 ms at 1e5 triples). Replacing a worker because it holds those
copies would make every heavy query pay that again (at 1e6 triples that halves the throughput
of a count over the store), so a busy worker may keep up to the store's share (the server
process's resident size when the pool is made) plus ``recycle_memory``; only beyond that, where
the query's own allocations stayed, is it replaced after its query. Memory comes back when the
load does: a worker idle for ``idle_timeout`` seconds is retired if the pool has more than
``min_workers``, and replaced by a fresh one if it holds more than ``recycle_memory`` of its own.

The processes of one server process (a gunicorn worker, or a test process)::

    server process (threaded: HTTP requests call QueryPool.run)
     └─ zygote: single-threaded, forked by QueryPool.start(); forks query workers on request
         ├─ query worker: answers one query at a time over its socketpair
         └─ query worker ...

Why a zygote: forking a threaded process copies the memory of the other threads mid-step,
including any lock one of them held (pyoxigraph's, a logging handler's), and the child could
deadlock on it. The zygote is forked once while the server process is still single-threaded
(gunicorn's ``post_fork`` hook, before the request threads start) and stays single-threaded, so
every query worker, including each replacement for a killed one, is forked from a
single-threaded process. The zygote passes each new worker's socket and a pidfd back over its
control socket (SCM_RIGHTS); the pidfd lets the server kill exactly that process, never a
recycled pid.

Every child closes all inherited file descriptors except its own socket (and stderr, for a
crash message), so that it never holds a client connection or the listening socket open; it
ignores SIGINT (Ctrl-C reaches the whole process group; the server decides), never logs, and
dies with its parent (PR_SET_PDEATHSIG, and EOF on its socket when idle). Results go back
serialised by :func:`engine.serialise_result` (which applies the result limit), so a worker
answers exactly what :class:`EmbeddedEngine` would, errors included; an exception of a kind
nobody expected comes back as its name, words and traceback, for the server to log.

A worker that dies while answering says nothing, so the server asks the zygote, its parent, how
it ended (:func:`ending_message`): an abort is an allocation beyond the memory limit, a
segmentation fault the engine crashing on the query, a kill the operating system or a shutdown.

Scheduling: a query still running after ``demote_after`` seconds gets a lower CPU priority
(nice), so that on a machine with few cores the short queries of other clients win the CPU from
the runaways; such a worker is replaced after its query, since its priority cannot be raised
again without privileges.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import os
import pickle
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass
from typing import NoReturn

import pyoxigraph as ox

from kommunen_kg.config import ConfigError
from kommunen_kg.sparql.engine import (
    EmbeddedEngine,
    QueryRequest,
    QueryResponse,
    is_engine_failure,
    unexpected_error,
)
from kommunen_kg.sparql.errors import EngineUnavailable, QueryError, QueryTimeout

_HEADER = struct.Struct("!Q")  # length prefix of every message on a worker socket
_PID = struct.Struct("!q")  # the zygote's answer to a fork request: the new worker's pid
_PR_SET_NAME = 15
_PR_SET_PDEATHSIG = 1
_SPAWN_TIMEOUT = 10.0  # seconds the zygote may take to fork a worker before we give up
_REAP_WAIT = 1.0  # seconds to wait for a killed worker to be gone before answering
_ENDINGS_KEPT = 256  # how many ended workers the zygote remembers until the server asks

_LIBC: ctypes.CDLL | None = None  # Linux: ask the kernel to kill a child when its parent dies
if sys.platform == "linux":
    with contextlib.suppress(OSError):
        _LIBC = ctypes.CDLL(None, use_errno=True)


_POOLS: weakref.WeakSet[QueryPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _WorkerDied(Exception):
    """The worker's socket reached EOF: the process is gone."""


class _Deadline(Exception):
    """The query's time limit passed before the answer came."""


# --- messages -------------------------------------------------------------------------------


def _send_message(sock: socket.socket, payload: bytes) -> None:
    if len(payload) < 65536:
        sock.sendall(_HEADER.pack(len(payload)) + payload)
    else:  # no copy of a large body just to prepend eight bytes
        sock.sendall(_HEADER.pack(len(payload)))
        sock.sendall(payload)


def _recv_blocking(sock: socket.socket) -> bytes | None:
    """One message, waiting as long as it takes; None at EOF (the parent went away)."""
    header = _recv_exact_blocking(sock, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    return _recv_exact_blocking(sock, size)


def _recv_exact_blocking(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            return None
        got += n
    return bytes(buffer)


# --- life in a child process ----------------------------------------------------------------


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
class _WorkerLimits:
    """What a query worker is allowed, in MB: see QueryPool."""

    memory_limit: int


def _serve_queries(sock: socket.socket, engine: EmbeddedEngine, limits: _WorkerLimits) -> None:
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
        message = _recv_blocking(sock)
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
        copied = (_minor_faults() - start_faults) * page
        try:
            payload = pickle.dumps((*reply, copied), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("error", _memory_error(limits.memory_limit), _EXHAUSTED))
        except Exception:  # an exception that does not pickle: keep its words
            payload = pickle.dumps(("error", QueryError(str(reply[1])), copied))
        _send_message(sock, payload)


_EXHAUSTED = 1 << 62  # "copied" of a worker that ran out of memory: replace it


def _resident_bytes() -> int:
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


def _child_main(main, *args) -> NoReturn:
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
    sock: socket.socket, zygote: int, engine: EmbeddedEngine, limits: _WorkerLimits
) -> None:
    _become_child(sock.fileno(), zygote, b"kkg-query")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _serve_queries(sock, engine, limits)


def _zygote_main(
    control: socket.socket, parent: int, engine: EmbeddedEngine, limits: _WorkerLimits
) -> None:
    """The zygote's loop: ``F`` asks for one new query worker, ``S`` and a pid how one ended.

    The zygote is the parent of every query worker, so only it can learn how one ended (a
    crash, the memory limit, a kill); the server asks when a worker died while answering, so
    that the client hears the cause. Workers that ended are reaped at each command.
    """
    _become_child(control.fileno(), parent, b"kkg-zygote")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ended workers wait to be reaped here
    me = os.getpid()
    ended: dict[int, int] = {}  # pid -> wait status, of workers reaped but not yet asked for
    while True:
        command = control.recv(1)
        if not command:
            os._exit(0)
        _reap(ended)
        if command == b"S":
            asked = _recv_exact_blocking(control, _PID.size)
            if asked is None:
                os._exit(0)
            control.sendall(_PID.pack(_ending(_PID.unpack(asked)[0], ended)))
            continue
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.detach()
            control.detach()
            _child_main(_worker_main, theirs, me, engine, limits)
        theirs.close()
        fds = [ours.fileno()]
        pidfd = None
        with contextlib.suppress(OSError, AttributeError):
            pidfd = os.pidfd_open(pid)
            fds.append(pidfd)
        socket.send_fds(control, [_PID.pack(pid)], fds)
        ours.close()
        if pidfd is not None:
            os.close(pidfd)


def _reap(ended: dict[int, int]) -> None:
    """Reaps every worker that has ended, keeping how it ended (the last few hundred)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        ended[pid] = status
        while len(ended) > _ENDINGS_KEPT:
            del ended[next(iter(ended))]


def _ending(pid: int, ended: dict[int, int]) -> int:
    """The wait status of worker ``pid`` once it has ended (waiting briefly), else -1."""
    deadline = time.monotonic() + _REAP_WAIT
    while pid not in ended:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        if done:
            return status
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
    if number == signal.SIGABRT:
        limit = (
            f"more than the memory limit of {memory_limit} MB per query"
            if memory_limit > 0
            else "more memory than the server has"
        )
        return (
            f"{start}: the query needed {limit}, and the engine stopped ({name}). Narrow it "
            "down (LIMIT, more specific patterns, no ORDER BY over a large result)."
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


# --- the server side ------------------------------------------------------------------------


@dataclass
class _Worker:
    """A query worker as the server sees it: its socket and a handle to kill it by."""

    pid: int
    sock: socket.socket
    pidfd: int | None
    demoted: bool = False
    copied: int = 0  # bytes of pages it has made its own, as of its last answer
    idle_since: float = 0.0

    def signal_kill(self) -> None:
        """SIGKILL now: the process stops at once and its CPU is free."""
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:  # pragma: no cover - kernels before 5.3
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def kill(self) -> None:
        """SIGKILL, then wait briefly until the process is gone (its pidfd turns readable)."""
        self.signal_kill()
        if self.pidfd is not None:
            with contextlib.suppress(OSError, ValueError):
                poller = select.poll()
                poller.register(self.pidfd, select.POLLIN)
                poller.poll(_REAP_WAIT * 1000)
        self.close()

    def close(self) -> None:
        self.sock.close()
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None

    def exited(self) -> bool:
        """True when the process is gone (its pidfd is readable); a cheap, non-blocking check."""
        if self.pidfd is None:
            return False
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        return bool(poller.poll(0))

    def demote(self, nice: int) -> None:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.pid, nice)
        self.demoted = True


class QueryPool:
    """A :class:`~kommunen_kg.sparql.engine.ClientEngine`: client queries in killable processes.

    ``run`` takes an idle worker (forking a new one while fewer than ``max_workers`` exist, or
    waiting up to ``queue_timeout`` seconds among at most ``queue_length`` waiting requests,
    else :class:`EngineUnavailable`), sends it the request and waits until the request's
    ``timeout``; then the worker is killed and replaced and ``run`` raises
    :class:`QueryTimeout`. It answers client queries only; the views' trusted queries run
    in-process (``sparql/engines.py``).

    Limits in MB: ``memory_limit`` is what one query may allocate on top of the shared store
    (beyond it the worker dies and ``run`` raises :class:`EngineUnavailable`);
    ``recycle_memory`` is how much memory of its own a worker may hold on top of the store's
    share (``store_share`` bytes; by default this process's resident size now, with the store
    loaded) before it is replaced after its query, and how much an idle worker may hold before
    it is replaced by a fresh one (0: never replaced for memory). Workers idle for
    ``idle_timeout`` seconds beyond ``min_workers`` are retired. See the module docstring.

    Call :meth:`start` in each server process while it is still single-threaded (gunicorn's
    ``post_fork``); ``run`` starts the pool itself when that was not done, from whatever
    thread calls it (safe as long as no other thread is inside pyoxigraph at that moment).
    """

    def __init__(
        self,
        store: ox.Store,
        union_default_graph: bool = True,
        *,
        min_workers: int = 2,
        max_workers: int = 8,
        queue_length: int = 16,
        queue_timeout: float = 5.0,
        memory_limit: int = 1024,
        recycle_memory: int = 128,
        store_share: int | None = None,
        idle_timeout: float = 60.0,
        demote_after: float = 1.0,
        demoted_nice: int = 10,
    ):
        if not 0 <= min_workers <= max_workers or max_workers < 1:
            raise ValueError("need 0 <= min_workers <= max_workers and max_workers >= 1")
        self.embedded = EmbeddedEngine(store, union_default_graph)  # what the workers run
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.queue_length = queue_length
        self.queue_timeout = queue_timeout
        self.memory_limit = memory_limit
        self._limits = _WorkerLimits(memory_limit)
        share = _resident_bytes() if store_share is None else store_share
        own = recycle_memory * 1024 * 1024
        self._busy_budget = share + own if recycle_memory > 0 else None
        self._idle_budget = own if recycle_memory > 0 else None
        self.idle_timeout = idle_timeout
        self._stopping = threading.Event()
        self.demote_after = demote_after
        self.demoted_nice = demoted_nice
        self._owner = 0  # pid of the process whose pool this is (0: not started)
        self._closed = False
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: dict[int, _Worker] = {}  # by pid
        self._starting = 0
        self._waiting = 0
        self._zygote_lock = threading.Lock()
        self._zygote: tuple[int, socket.socket] | None = None
        _POOLS.add(self)

    @classmethod
    def from_config(cls, store: ox.Store, union_default_graph: bool, server) -> QueryPool:
        """A pool sized by the ``[server]`` section of the configuration."""
        if server.query_workers_max < 1 or server.query_workers_min < 0:
            raise ConfigError("[server] query_workers_min must be >= 0, query_workers_max >= 1")
        if server.query_workers_min > server.query_workers_max:
            raise ConfigError("[server] query_workers_min must not exceed query_workers_max")
        return cls(
            store,
            union_default_graph,
            min_workers=server.query_workers_min,
            max_workers=server.query_workers_max,
            queue_length=server.query_queue_length,
            queue_timeout=server.query_queue_timeout,
            memory_limit=server.query_memory_limit,
            recycle_memory=server.query_worker_recycle_memory,
            idle_timeout=server.query_worker_idle_timeout,
        )

    # -- life cycle --

    def start(self) -> None:
        """Forks the zygote and the first ``min_workers`` workers for this process."""
        with self._cond:
            if self._owner == os.getpid():
                return
            self._owner = os.getpid()
            self._closed = False
        atexit.register(_close_at_exit, weakref.ref(self), os.getpid())
        with self._zygote_lock:
            self._start_zygote()
        for _ in range(self.min_workers):
            worker = self._spawn()
            with self._cond:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
                self._cond.notify()
        # Started after the zygote was forked: that fork needs this process single-threaded.
        if self.idle_timeout > 0:
            threading.Thread(target=self._tidy_loop, name="kkg-pool-tidy", daemon=True).start()

    def _after_fork_in_child(self) -> None:
        """A forked copy of a pool is not started: the parent's workers are not ours.

        Fresh locks (another thread of the parent may have held the old ones at the fork) and
        no copies of the parent's worker sockets.
        """
        self._cond = threading.Condition()
        self._zygote_lock = threading.Lock()
        self._stopping = threading.Event()  # the parent's tidying thread does not live here
        for worker in [*self._idle, *self._busy.values()]:
            worker.close()
        self._idle.clear()
        self._busy.clear()
        self._starting = self._waiting = 0
        if self._zygote is not None:
            self._zygote[1].close()
            self._zygote = None
        self._owner = 0
        self._closed = False

    def close(self) -> None:
        """Kills every worker and the zygote; requests still waiting get EngineUnavailable."""
        with self._cond:
            if self._owner != os.getpid() or self._closed:
                return
            self._closed = True
            self._stopping.set()
            idle, self._idle = self._idle, []
            busy = list(self._busy.values())
            self._cond.notify_all()
        for worker in idle:
            worker.kill()
        for worker in busy:  # their threads see EOF and answer EngineUnavailable
            worker.signal_kill()
        with self._zygote_lock:
            if self._zygote is not None:
                pid, control = self._zygote
                control.close()  # the zygote sees EOF and exits
                self._zygote = None
                _wait_for_child(pid, _REAP_WAIT)

    # -- workers --

    def _start_zygote(self) -> None:
        """Forks the zygote from this process (caller holds ``_zygote_lock``)."""
        ours, theirs = socket.socketpair()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            ours.detach()
            _child_main(_zygote_main, theirs, parent, self.embedded, self._limits)
        theirs.close()
        ours.settimeout(_SPAWN_TIMEOUT)
        self._zygote = (pid, ours)

    def _spawn(self) -> _Worker:
        """A new idle worker, forked by the zygote (restarted once if it has died)."""
        with self._zygote_lock:
            for attempt in (1, 2):
                if self._zygote is None:
                    self._start_zygote()
                assert self._zygote is not None
                pid, control = self._zygote
                try:
                    control.sendall(b"F")
                    data, fds, _flags, _addr = socket.recv_fds(control, _PID.size, 2)
                    if len(data) != _PID.size or not fds:
                        raise ConnectionError("the zygote closed its socket")
                    break
                except OSError as exc:
                    control.close()
                    self._zygote = None
                    _wait_for_child(pid, 0.2)
                    if attempt == 2:
                        raise EngineUnavailable(f"cannot start a query worker: {exc}") from exc
        for fd in fds:
            os.set_inheritable(fd, False)
        (worker_pid,) = _PID.unpack(data)
        sock = socket.socket(fileno=fds[0])
        return _Worker(worker_pid, sock, fds[1] if len(fds) > 1 else None)

    def _acquire(self) -> _Worker:
        """An idle worker for one query; see the class docstring for growth and queueing."""
        if self._owner != os.getpid():
            self.start()
        deadline = time.monotonic() + self.queue_timeout
        with self._cond:
            queued = False
            try:
                while True:
                    if self._closed:
                        raise EngineUnavailable("The query service is shutting down.")
                    while self._idle:
                        worker = self._idle.pop()
                        if worker.exited():  # killed from outside while idle (or its zygote)
                            worker.close()
                            continue
                        self._busy[worker.pid] = worker
                        return worker
                    if len(self._busy) + self._starting < self.max_workers:
                        self._starting += 1
                        break
                    if not queued:
                        if self._waiting >= self.queue_length:
                            raise self._busy_error()
                        self._waiting += 1
                        queued = True
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise self._busy_error()
                    self._cond.wait(remaining)
            finally:
                if queued:
                    self._waiting -= 1
        try:
            worker = self._spawn()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()  # a waiting request may try to start one itself
            raise
        with self._cond:
            self._starting -= 1
            self._busy[worker.pid] = worker
        return worker

    def _busy_error(self) -> EngineUnavailable:
        return EngineUnavailable(
            f"All {self.max_workers} query workers are busy; please try again shortly."
        )

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._busy.pop(worker.pid, None)
            if self._closed:
                worker.close()
                return
            worker.idle_since = time.monotonic()
            self._idle.append(worker)
            self._cond.notify()

    def _tidy_loop(self) -> None:
        """Every quarter of ``idle_timeout``, gives back what idle workers hold (see _tidy)."""
        while not self._stopping.wait(max(self.idle_timeout / 4, 0.05)):
            self._tidy()

    def _tidy(self) -> None:
        """Retires workers idle for ``idle_timeout`` beyond ``min_workers``, and replaces idle
        ones that hold more than ``recycle_memory`` of their own by fresh ones."""
        now = time.monotonic()
        with self._cond:
            if self._closed:
                return
            stale = sorted(
                (w for w in self._idle if now - w.idle_since >= self.idle_timeout),
                key=lambda w: w.idle_since,
            )
            surplus = len(self._idle) + len(self._busy) + self._starting - self.min_workers
            retired = stale[: max(surplus, 0)]
            budget = self._idle_budget
            refreshed = [w for w in stale[len(retired) :] if budget and w.copied > budget]
            for worker in (*retired, *refreshed):
                self._idle.remove(worker)
        for worker in retired:
            worker.kill()
        for worker in refreshed:
            worker.kill()
            with self._cond:
                if self._closed:
                    return
                self._starting += 1
            self._add_fresh()

    def _add_fresh(self) -> None:
        """Forks a worker in place of one just killed (the caller counted it in ``_starting``)
        and parks it as idle; when no worker can be forked now, the pool is one smaller until a
        request needs one."""
        try:
            fresh = self._spawn()
        except EngineUnavailable:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            return
        with self._cond:
            self._starting -= 1
            if self._closed:
                fresh.close()
                return
            fresh.idle_since = time.monotonic()
            self._idle.append(fresh)
            self._cond.notify()

    def _replace(self, worker: _Worker, *, learn_ending: bool = False) -> int | None:
        """Kills ``worker`` and puts a fresh one in its place.

        With ``learn_ending``, returns how the worker ended (its wait status, None when
        unknown), asked of the zygote after the kill.
        """
        worker.kill()
        ending = self._ending_of(worker.pid) if learn_ending else None
        with self._cond:
            self._busy.pop(worker.pid, None)
            if self._closed:
                return ending
            self._starting += 1
        self._add_fresh()
        return ending

    def _ending_of(self, pid: int) -> int | None:
        """How the worker ``pid`` ended (a wait status), asked of its parent, the zygote."""
        with self._zygote_lock:
            if self._zygote is None:
                return None
            zygote, control = self._zygote
            try:
                control.sendall(b"S" + _PID.pack(pid))
                answer = _recv_exact_blocking(control, _PID.size)
                if answer is None:
                    raise ConnectionError("the zygote closed its socket")
            except OSError:
                # Out of step or gone: the next worker comes from a new zygote.
                control.close()
                self._zygote = None
                _wait_for_child(zygote, 0.2)
                return None
        (status,) = _PID.unpack(answer)
        return status if status >= 0 else None

    # -- the ClientEngine interface --

    def run(self, request: QueryRequest) -> QueryResponse:
        """Runs an untrusted query in a worker process; see the class docstring."""
        worker = self._acquire()
        started = time.monotonic()
        try:
            worker.sock.settimeout(max(request.timeout, 0.001))
            _send_message(worker.sock, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            message = self._receive(worker, started + request.timeout, started)
        except _Deadline:
            self._replace(worker)
            raise QueryTimeout(
                f"The query ran longer than the time limit of {request.timeout:g} s and was "
                "stopped. Narrow it down (more specific patterns, LIMIT) and try again."
            ) from None
        except (_WorkerDied, OSError):
            ending = self._replace(worker, learn_ending=True)
            raise EngineUnavailable(ending_message(ending, self.memory_limit)) from None
        except BaseException:
            self._replace(worker)
            raise
        status, value, copied = pickle.loads(message)
        worker.copied = copied
        if worker.demoted or (self._busy_budget is not None and copied > self._busy_budget):
            self._replace(worker)
        else:
            self._release(worker)
        if status == "ok":
            return value
        if status == "unexpected":
            kind, text, details = value
            raise unexpected_error(kind, text, request.query, details)
        raise value

    def _receive(self, worker: _Worker, deadline: float, started: float) -> bytes:
        """The worker's answer, or _Deadline; demotes the worker once it has run long."""
        sock = worker.sock
        buffer = bytearray()
        size: int | None = None
        view: memoryview | None = None
        got = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise _Deadline
            wait = deadline - now
            demote_at = started + self.demote_after
            if not worker.demoted:
                if now >= demote_at:
                    worker.demote(self.demoted_nice)
                else:
                    wait = min(wait, demote_at - now)
            sock.settimeout(wait)
            try:
                if size is None:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise _WorkerDied
                    buffer += chunk
                    if len(buffer) >= _HEADER.size:
                        (size,) = _HEADER.unpack_from(buffer)
                        body = bytearray(size)
                        got = len(buffer) - _HEADER.size
                        body[:got] = buffer[_HEADER.size :]
                        buffer, view = body, memoryview(body)
                else:
                    assert view is not None
                    n = sock.recv_into(view[got:])
                    if n == 0:
                        raise _WorkerDied
                    got += n
            except TimeoutError:
                continue
            if size is not None and got >= size:
                return bytes(buffer) if got == size else bytes(buffer[:size])

    def etag(self, request: QueryRequest) -> str | None:
        return None

    # -- for tests and monitoring --

    def worker_pids(self) -> dict[str, list[int]]:
        """The pids of the zygote and of the idle and busy workers of this process."""
        with self._cond:
            return {
                "zygote": [self._zygote[0]] if self._zygote else [],
                "idle": [w.pid for w in self._idle],
                "busy": sorted(self._busy),
            }


def _close_at_exit(pool: weakref.ref[QueryPool], pid: int) -> None:
    """atexit: the process that started a pool closes it (never a forked copy)."""
    alive = pool()
    if alive is not None and os.getpid() == pid:
        alive.close()


def _wait_for_child(pid: int, timeout: float) -> None:
    """Reaps our direct child ``pid`` (the zygote), killing it if it lingers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            return
        time.sleep(0.01)
