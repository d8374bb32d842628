"""How many client queries of one server process may wait for an answer at once.

WHY: each of them holds a request thread while it waits (for a query worker, or for a remote
store). Given fewer than all the threads of a server process, the rest stay free for pages,
``/health`` and answers from the caches, however many runaway queries arrive; the query beyond
the limit is refused at once (503 with Retry-After), not queued behind the others.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


class Admission:
    """At most ``most`` holders at once; the next is refused with ``refused()``."""

    def __init__(self, most: int):
        self.most = max(1, most)
        self.holders = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admit(self, refused: Callable[[], Exception]) -> Iterator[None]:
        with self._lock:
            if self.holders >= self.most:
                raise refused()
            self.holders += 1
        try:
            yield
        finally:
            with self._lock:
                self.holders -= 1

    def reset(self) -> None:
        """A forked copy starts with no holders and a fresh lock (another thread of the parent
        may have held the old one at the fork)."""
        self.holders = 0
        self._lock = threading.Lock()
