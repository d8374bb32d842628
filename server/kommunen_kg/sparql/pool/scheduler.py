"""The server side of the pool: which worker answers, waiting, killing at the deadline."""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import select
import shutil
import signal
import socket
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, replace

import pyoxigraph as ox

from kommunen_kg.config import ConfigError
from kommunen_kg.sparql.admission import Admission
from kommunen_kg.sparql.engine import (
    EmbeddedEngine,
    QueryRequest,
    QueryResponse,
    unexpected_error,
)
from kommunen_kg.sparql.errors import EngineUnavailable, QueryError, QueryTimeout
from kommunen_kg.sparql.pool.wire import HEADER, PID, recv_exact_blocking, send_message
from kommunen_kg.sparql.pool.worker import (
    PANIC,
    REAP_WAIT,
    WorkerLimits,
    child_main,
    ending_message,
    resident_bytes,
    zygote_main,
)

_SPAWN_TIMEOUT = 10.0  # seconds the zygote may take to fork a worker before we give up
# MB of its own (mostly copies of store pages) that a worker idle for ``idle_timeout`` may keep.
# WHY so little: giving them back costs nothing now and a fork later, plus about 4 us a page
# when a query reads those pages again (a fresh worker's first count per theme at 1e5: 40 ms
# instead of 17), once after an idle spell; keeping them costs their memory for as long as
# the server stays idle (at 1e5, the two query processes' 33 MB each after the benchmark's
# queries: 218 MB of PSS instead of 152, against Oxigraph server's 75).
IDLE_COPIES = 8

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
                poller.poll(REAP_WAIT * 1000)
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


def most_workers(least: int, configured: int) -> int:
    """``query_workers_max``, where 0 means one per processor core (at least ``least``, at
    least one): queries are CPU-bound, so a process more than there are cores adds memory (the
    store pages it copies) and no throughput (bench/README.md, "Memory after a cold run")."""
    if configured:
        return configured
    return max(least, os.cpu_count() or 1, 1)


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
    loaded) before it is replaced after its query (0: never replaced for memory);
    ``idle_copies`` how much of its own (mostly copies of store pages) a worker idle for
    ``idle_timeout`` seconds may keep before it is replaced by a fresh one. Workers idle for
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
        idle_copies: int = IDLE_COPIES,
        demote_after: float = 1.0,
        demoted_nice: int = 10,
    ):
        if not 0 <= min_workers <= max_workers or max_workers < 1:
            raise ValueError("need 0 <= min_workers <= max_workers and max_workers >= 1")
        self.embedded = EmbeddedEngine(store, union_default_graph)  # what the workers run
        self._words = ""  # the folder of the workers' last words, made by start()
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.queue_length = queue_length
        self.queue_timeout = queue_timeout
        self.memory_limit = memory_limit
        self._limits = WorkerLimits(memory_limit)
        share = resident_bytes() if store_share is None else store_share
        own = recycle_memory * 1024 * 1024
        self._busy_budget = share + own if recycle_memory > 0 else None
        self._idle_budget = idle_copies * 1024 * 1024 if recycle_memory > 0 else None
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
        # Requests in the pool (running or waiting) at most: see limit_requests.
        self.admission = Admission(max_workers + queue_length)
        self._zygote_lock = threading.Lock()
        self._zygote: tuple[int, socket.socket] | None = None
        _POOLS.add(self)

    @classmethod
    def from_config(cls, store: ox.Store, union_default_graph: bool, server) -> QueryPool:
        """A pool sized by the ``[server]`` section of the configuration."""
        if server.query_workers_max < 0 or server.query_workers_min < 0:
            raise ConfigError(
                "[server] query_workers_min must be >= 0, query_workers_max >= 1 (0: one per core)"
            )
        if server.query_workers_max and server.query_workers_min > server.query_workers_max:
            raise ConfigError("[server] query_workers_min must not exceed query_workers_max")
        return cls(
            store,
            union_default_graph,
            min_workers=server.query_workers_min,
            max_workers=most_workers(server.query_workers_min, server.query_workers_max),
            queue_length=server.query_queue_length,
            queue_timeout=server.query_queue_timeout,
            memory_limit=server.query_memory_limit,
            recycle_memory=server.query_worker_recycle_memory,
            idle_timeout=server.query_worker_idle_timeout,
        )

    def limit_requests(self, most: int) -> None:
        """Lets at most ``most`` requests be in the pool (running or waiting) at once; the
        next gets :class:`EngineUnavailable` at once (see ``sparql/admission.py``)."""
        self.admission.most = max(1, min(most, self.max_workers + self.queue_length))

    # -- life cycle --

    def start(self) -> None:
        """Forks the zygote and the first ``min_workers`` workers for this process."""
        with self._cond:
            if self._owner == os.getpid():
                return
            self._owner = os.getpid()
            self._closed = False
            # The workers' last words (their stderr), one file each, read when they are reaped.
            self._words = _words_folder()
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
        self.admission.reset()
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
                _wait_for_child(pid, REAP_WAIT)
        if self._words:
            shutil.rmtree(self._words, ignore_errors=True)

    # -- workers --

    def _start_zygote(self) -> None:
        """Forks the zygote from this process (caller holds ``_zygote_lock``)."""
        ours, theirs = socket.socketpair()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            ours.detach()
            child_main(zygote_main, theirs, parent, self.embedded, self._limits, self._words)
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
                    data, fds, _flags, _addr = socket.recv_fds(control, PID.size, 2)
                    if len(data) != PID.size or not fds:
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
        (worker_pid,) = PID.unpack(data)
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
        ones that hold more than ``idle_copies`` of their own by fresh ones."""
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
                control.sendall(b"S" + PID.pack(pid))
                answer = recv_exact_blocking(control, PID.size)
                if answer is None:
                    raise ConnectionError("the zygote closed its socket")
            except OSError:
                # Out of step or gone: the next worker comes from a new zygote.
                control.close()
                self._zygote = None
                _wait_for_child(zygote, 0.2)
                return None
        (status,) = PID.unpack(answer)
        return status if status >= 0 else None

    # -- the ClientEngine interface --

    def run(self, request: QueryRequest) -> QueryResponse:
        """Runs an untrusted query in a worker process; see the class docstring."""
        fds: list[int] = []  # a spooled answer's file, passed with the answer
        try:
            with self.admission.admit(self._busy_error):
                return self._run(request, fds)
        finally:
            for fd in fds:  # not taken as an answer's spool: a failure on the way
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _run(self, request: QueryRequest, fds: list[int]) -> QueryResponse:
        worker = self._acquire()
        started = time.monotonic()
        try:
            worker.sock.settimeout(max(request.timeout, 0.001))
            send_message(worker.sock, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            message = self._receive(worker, started + request.timeout, started, fds)
        except _Deadline:
            self._replace(worker)
            raise QueryTimeout(
                f"The query ran longer than the time limit of {request.timeout:g} s and was "
                "stopped. Narrow it down (more specific patterns, LIMIT) and try again."
            ) from None
        except (_WorkerDied, OSError):
            ending = self._replace(worker, learn_ending=True)
            message = ending_message(ending, self.memory_limit)
            if ending is not None and ending & PANIC:
                raise QueryError(message) from None  # the same query fails the same way: 400
            raise EngineUnavailable(message) from None
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
            if value.spooled and fds:
                spool = os.fdopen(fds.pop(), "rb")
                return replace(value, spool=spool)
            return value
        if status == "unexpected":
            kind, text, details = value
            raise unexpected_error(kind, text, request.query, details)
        raise value

    def _receive(self, worker: _Worker, deadline: float, started: float, fds: list[int]) -> bytes:
        """The worker's answer, or _Deadline; demotes the worker once it has run long.

        Descriptors that come with the answer (a spooled answer's file) are added to ``fds``.
        """
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
                    chunk, passed, _flags, _addr = socket.recv_fds(sock, 65536, 1)
                    fds.extend(passed)
                    if not chunk:
                        raise _WorkerDied
                    buffer += chunk
                    if len(buffer) >= HEADER.size:
                        (size,) = HEADER.unpack_from(buffer)
                        body = bytearray(size)
                        got = len(buffer) - HEADER.size
                        body[:got] = buffer[HEADER.size :]
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

    def local(self, request: QueryRequest) -> bool:
        return False  # a query process answers: the caller waits

    def immediate(self, request: QueryRequest) -> bool:
        return False

    # -- for tests and monitoring --

    def worker_pids(self) -> dict[str, list[int]]:
        """The pids of the zygote and of the idle and busy workers of this process."""
        with self._cond:
            return {
                "zygote": [self._zygote[0]] if self._zygote else [],
                "idle": [w.pid for w in self._idle],
                "busy": sorted(self._busy),
            }


WORDS_FOLDERS = "kommunen-kg-query-words"


def _words_folder() -> str:
    """A folder of this pool for its query workers' last words, under
    ``{tmp}/kommunen-kg-query-words/``, named after this process.

    A server killed with SIGKILL cannot remove its folders; the next pool to start removes the
    folders of processes that are gone, so that they do not pile up.
    """
    base = os.path.join(tempfile.gettempdir(), WORDS_FOLDERS)
    try:
        os.makedirs(base, exist_ok=True)
        for entry in os.listdir(base):
            owner = entry.split("-", 1)[0]
            if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                shutil.rmtree(os.path.join(base, entry), ignore_errors=True)
        return tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base)
    except OSError:  # a shared temp folder another user owns: one of our own
        return tempfile.mkdtemp(prefix="kkg-words-")


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
