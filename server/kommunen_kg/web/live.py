"""The release a running ``serve`` answers from, switched without a restart (issue 12).

WHY: a new build used to reach readers only when someone restarted every server. Now the
server's master process looks at ``graphs/current`` once a second (under ``serve --store``:
at the store's pointer, which ``publish`` switches, see ``sparql/remote/versions.py``); when it
names another release, the master loads that release next to the one it serves (so memory
peaks at about twice the store), makes it the current one, and asks the HTTP server to replace
its workers one by one (granian's graceful respawn, what its SIGHUP handler starts). Each new
worker is forked from the master with the new release; each old worker finishes what it has in
hand and stops. So every answer comes from exactly one release (a worker never holds two) and
the ETags, ``/health`` and the response caches change with the worker that gives them. A
keep-alive connection idle at the moment its worker stops is closed; HTTP clients send their
next GET again on a new one (RFC 9112, 9.3.1). To make that rare, and to keep a busy kept-alive
connection from holding an old worker alive, an old worker's answers carry
``Connection: close`` from the moment of the switch (:meth:`LiveRelease.retiring`).

A release that cannot be loaded is not served: the workers go on with the release they have,
and ``/health`` answers 503 naming the problem until the pointer names a loadable release.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import RawValue

from flask import Flask

from kommunen_kg.config import Config
from kommunen_kg.rdf.release import CURRENT, ReleaseFolder
from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.web.app import RELEASE_PROBLEM_KEY, create_app
from kommunen_kg.web.publication import Publication, open_release, open_remote_store

log = logging.getLogger(__name__)

WATCH_EVERY = 1.0  # seconds between two looks at graphs/current


class LiveRelease:
    """The current release of a ``serve`` process, its application, and the switch."""

    def __init__(
        self,
        config: Config,
        publication: Publication,
        prepare: Callable[[Publication], None],
        store: str | None = None,
        pool_size: int = 32,
    ):
        self.config = config
        # With a remote store the pointer is the store's (sparql/remote/versions.py); else
        # graphs/current.
        self.store = store
        self._pool_size = pool_size  # connections to the store per server process
        self._prepare = prepare  # what serve does to every publication (limits), before forking
        prepare(publication)
        self.publication = publication
        self.version = publication.version  # read by the watcher, also during a switch
        self.app: Flask = create_app(publication)
        self._failed: str | None = None  # a version that could not be loaded; not retried
        self._stop = threading.Event()
        self._reload: Callable[[], None] | None = None  # see reload_with
        # How many switches the master has made, in memory it shares with the workers it forks
        # (made before the first fork); each worker keeps the count it was forked with.
        self._switches = RawValue("Q", 0)
        self._forked_at = 0

    def pointer(self) -> str | None:
        """The version ``graphs/current`` (or the remote store) names now (None when it cannot
        be read: the served release stays)."""
        if self.store is not None:
            iris = self.publication.iris
            remote = self.publication.engines.remote if self.publication.engines else None
            if remote is None:
                return None
            try:
                # the pointer of releases published side by side; in a store loaded under the
                # public names (no pointer), the version its metadata graph names
                named = remote.current_release()
                if named is None and remote.names is None:
                    named = remote.release_version(iris.graph("metadata"), iris.dataset)
                return named
            except QueryError:
                return None
        try:
            return (self.config.graphs_dir / CURRENT).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _open(self, version: str) -> Publication:
        if self.store is not None:
            publication = open_remote_store(self.config, self.store, pool_size=self._pool_size)
            if publication.version != version:
                raise RuntimeError(f"the store names {publication.version} now, not {version}")
            return publication
        release = ReleaseFolder(self.config.graphs_dir).read(version)
        if release is None:
            raise FileNotFoundError(f"graphs/releases/{version} is missing or incomplete")
        return open_release(self.config, release, pooled=True)

    def pending(self) -> str | None:
        """A version to switch to: named by the pointer, not served, not failed before."""
        named = self.pointer()
        if named is None or named in (self.version, self._failed):
            return None
        return named

    def switch(self) -> None:
        """Loads the release the pointer names and makes it current (in the master, before the
        workers are replaced). Keeps the current one when the new one cannot be loaded."""
        version = self.pending()
        if version is None:
            return
        started = time.monotonic()
        served = self.publication.version
        embedded = self.store is None
        if embedded:
            self._free_served()
        try:
            publication = self._open(version)
            self._prepare(publication)
            app = create_app(publication)
        except Exception as exc:  # any failure keeps the release being served
            self._failed = version
            pointer = "the store's pointer" if self.store is not None else "graphs/current"
            problem = f"{pointer} names release {version}, which cannot be served: {exc}"
            log.error("%s; still serving %s", problem, served)
            if embedded:  # load the served one again, for workers forked from now on
                self._load(served)
            self.app.extensions[RELEASE_PROBLEM_KEY] = problem
            return
        old = self.publication
        self.publication, self.app, self._failed = publication, app, None
        self.version = version
        self._switches.value += 1  # from now on the workers forked before are retiring
        del old
        gc.collect()
        gc.freeze()  # the new release's objects, out of the collector's reach (as serve does)
        log.warning(
            "switched to release %s (loaded in %.1f s); replacing the workers",
            version,
            time.monotonic() - started,
        )

    def _free_served(self) -> None:
        """Frees the served release in this process before the new one is loaded.

        WHY first: the workers serving it were forked from this process and keep their own
        mapping of its pages, so they answer on; here it is only in the way. Freed before the
        load, its memory goes back to the system (``_give_back_freed_memory``) before the new
        release takes as much, and before any new worker is forked (a worker forked while
        the old release is still here would map it for its whole life). Measured at 1.45e6
        triples: peak 1.8-1.9x the idle memory instead of 2.5x, and 1.0x once the old workers
        have ended instead of 1.8x. Between here and the end of the load there is no
        application to fork a worker with: a worker that crashed meanwhile is started again
        after the load (granian retries)."""
        self.publication = self.app = None  # type: ignore[assignment]
        # Its objects were frozen out of the collector's reach before the forks (serve calls
        # gc.freeze()); let the collector free them now.
        gc.unfreeze()
        gc.collect()
        _give_back_freed_memory()

    def _load(self, version: str) -> None:
        publication = self._open(version)
        self._prepare(publication)
        self.publication, self.app = publication, create_app(publication)

    def reload_with(self, trigger: Callable[[], None]) -> None:
        """How to ask the HTTP server for a reload (granian's own SIGHUP handler; a SIGHUP to
        gunicorn's main thread). Called
        directly from the watcher: a SIGHUP the kernel hands to the watcher's thread did not
        always wake the server's main loop, and a switch then waited seconds for it."""
        self._reload = trigger

    def watch(self) -> None:
        """In a thread of the master: asks the HTTP server for a reload when the pointer names
        another release; the server's reload hook then calls :meth:`switch`. Nothing to do
        until the server has said how (``reload_with``)."""
        reload = self._reload
        if reload is None:
            return
        signalled: str | None = None  # the version a reload was asked for, once

        def loop() -> None:
            nonlocal signalled
            while not self._stop.wait(WATCH_EVERY):
                version = self.pending()
                if version is None:
                    signalled = None  # switched (or failed): the next change is news again
                elif version != signalled:
                    signalled = version
                    reload()

        threading.Thread(target=loop, name="kkg-release-watch", daemon=True).start()

    # -- what each worker runs, for the release it was forked with --

    def post_fork(self) -> None:
        self._forked_at = self._switches.value
        pool = self.publication.engines.pool if self.publication.engines else None
        if pool is not None:
            pool.start()

    def retiring(self) -> bool:
        """In a worker: whether the master has switched to another release since this worker
        was forked (it is about to be replaced). One read of shared memory."""
        return self._switches.value != self._forked_at

    def worker_exit(self) -> None:
        pool = self.publication.engines.pool if self.publication.engines else None
        if pool is not None:
            pool.close()


def _give_back_freed_memory() -> None:
    """Returns the memory the old release held to the system (glibc's ``malloc_trim``).

    WHY: the allocator keeps freed memory for reuse, and workers forked later share those
    pages. Measured at 1e6 triples, the whole server 3 s after a switch: 2,289 MiB without,
    1,995 MiB with (1,085 MiB before the switch; the rest is not given back yet, see the
    note in docs/scaling.md)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - not glibc
        return
    with contextlib.suppress(OSError, AttributeError):  # a C library without it
        ctypes.CDLL(name).malloc_trim(0)
