"""Untrusted SPARQL queries in worker processes that can be killed when their time is up.

``wire`` frames the messages on a worker's socket, ``worker`` is the life of the zygote and
of the query workers it forks, ``scheduler`` the server side: :class:`~.scheduler.QueryPool`.

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
``min_workers``, and replaced by a fresh one if it holds more than a few megabytes of its own
(``scheduler.IDLE_COPIES``): an idle server gives the copies back, and the next burst's first
heavy query pays for them once.

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

from kommunen_kg.sparql.pool.scheduler import QueryPool

__all__ = ["QueryPool"]
