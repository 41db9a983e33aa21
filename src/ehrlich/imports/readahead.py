"""Reading an import's next rows while its current batch commits.

A batch's commit is one long call into the database (SQLite writes the pages to
its log and, now and then, checkpoints them; PostgreSQL waits for the server's
flush) in which Python's interpreter lock is free. The next rows' work is the
opposite: row checks, blind indexes and sealing, all in Python. `ReadAhead`
reads rows in a thread of its own, in file order, but only while the caller
allows it — during a commit (`meanwhile`) or while the caller waits for rows
(`take`) — so the two overlap on two cores.

Why only then: a thread that competes for the interpreter lock while the batch
runs its statements would take the lock at each of the driver's short releases
(one per inserted row), and the batch would wait up to the interpreter's switch
interval (5 ms) each time. Kept to the commit, the batch waits for the reader at
most once after its commit (up to that interval, while the reader does work that
had to be done anyway) and, now and then, for the one row the reader was reading
when it was stopped.

Nothing read ahead is written anywhere: a crash loses only rows not yet
committed, which the import reads again when it resumes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class ReadAhead(Generic[Item, Outcome]):
    """`read(item)` for each of `items` in order, in a background thread, at most
    `limit` outcomes ahead of what `take` has handed out. Use it as a context manager:
    leaving it stops the thread."""

    def __init__(self, read: Callable[[Item], Outcome], items: Sequence[Item], *,
                 limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._read, self._items, self._limit = read, items, limit
        self._ready: deque[Outcome] = deque()
        self._read_count = 0  # items read so far, handed out or waiting in _ready
        self._wanted = 0  # outcomes `take` waits for; the reader wakes it at this many
        self._allowed = False
        self._closed = False
        self._error: BaseException | None = None
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="import-read-ahead",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> ReadAhead[Item, Outcome]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the reader (after the row it is reading) and wait for it."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._thread.join()

    @contextmanager
    def meanwhile(self) -> Iterator[None]:
        """Let the reader read ahead during the block (a commit)."""
        with self._lock:
            self._allowed = True
            self._lock.notify_all()
        try:
            yield
        finally:
            with self._lock:
                self._allowed = False

    def take(self, count: int) -> list[Outcome]:
        """The next `count` outcomes (fewer at the end of the items), in order; waits
        while the reader reads those not read yet. Raises what `read` raised."""
        with self._lock:
            count = min(count, len(self._items) - (self._read_count - len(self._ready)))
            self._wanted, self._allowed = count, True
            self._lock.notify_all()
            self._lock.wait_for(lambda: len(self._ready) >= count or self._error is not None
                                or self._closed)
            self._wanted, self._allowed = 0, False
            if self._error is not None:
                raise self._error
            if self._closed:
                raise RuntimeError("the read-ahead was closed")
            return [self._ready.popleft() for _ in range(count)]

    def _may_read(self) -> bool:
        return self._closed or (self._allowed and len(self._ready) < max(self._limit,
                                                                        self._wanted)
                                and self._read_count < len(self._items))

    def _work(self) -> None:
        try:
            while True:
                with self._lock:
                    self._lock.wait_for(self._may_read)
                    if self._closed:
                        return
                    item = self._items[self._read_count]
                outcome = self._read(item)
                with self._lock:
                    self._ready.append(outcome)
                    self._read_count += 1
                    if self._wanted and len(self._ready) >= self._wanted:
                        self._lock.notify_all()
        except BaseException as exc:  # handed to the caller by `take`
            with self._lock:
                self._error = exc
                self._lock.notify_all()
