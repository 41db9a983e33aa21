"""The import's read-ahead: every row once, in file order, in a thread of its own, only
while allowed and at most `limit` rows ahead; an error reaches the caller."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.imports.readahead import ReadAhead


class Reads:
    """`read` for the tests: records the thread and how far ahead of the handed-out
    rows each read was."""

    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.handed_out = 0
        self.most_ahead = 0
        self.read_count = 0

    def __call__(self, item: int) -> int:
        self.threads.add(threading.current_thread().name)
        self.read_count += 1
        self.most_ahead = max(self.most_ahead, self.read_count - self.handed_out)
        return item * 10


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 60), limit=st.integers(1, 12),
       sizes=st.lists(st.integers(1, 12), min_size=1, max_size=8),
       commits=st.lists(st.booleans(), min_size=1, max_size=8))
def test_every_item_once_in_order_and_never_more_than_limit_ahead(
        total: int, limit: int, sizes: list[int], commits: list[bool]) -> None:
    reads = Reads()
    got: list[int] = []
    with ReadAhead(reads, range(total), limit=limit) as ahead:
        turn = 0
        while len(got) < total:
            size = min(sizes[turn % len(sizes)], limit)
            batch = ahead.take(size)
            assert len(batch) == min(size, total - len(got))
            got += batch
            reads.handed_out = len(got)
            if commits[turn % len(commits)]:
                with ahead.meanwhile():
                    pass
            turn += 1
        assert ahead.take(5) == []
    assert got == [i * 10 for i in range(total)]
    assert reads.read_count == total
    assert reads.most_ahead <= limit
    assert reads.threads <= {"import-read-ahead"}


def test_reads_ahead_while_a_commit_runs() -> None:
    """The next rows are read during `meanwhile`, by the reader thread, up to the limit."""
    first_ahead = threading.Event()
    reads = Reads()

    def read(item: int) -> int:
        outcome = reads(item)
        if item == 5:
            first_ahead.set()
        return outcome

    with ReadAhead(read, range(20), limit=5) as ahead:
        assert ahead.take(5) == [0, 10, 20, 30, 40]
        reads.handed_out = 5
        with ahead.meanwhile():
            # a commit that lasts until the reader has read a row of the next batch
            assert first_ahead.wait(timeout=30)
        assert ahead.take(5) == [50, 60, 70, 80, 90]
    assert reads.threads == {"import-read-ahead"}
    assert reads.most_ahead <= 5


def test_an_error_in_a_row_reaches_the_caller_after_the_rows_before_it() -> None:
    def read(item: int) -> int:
        if item == 7:
            raise ValueError("the row reader broke")
        return item

    with ReadAhead(read, range(10), limit=4) as ahead:
        assert ahead.take(4) == [0, 1, 2, 3]
        with ahead.meanwhile():
            pass
        with pytest.raises(ValueError, match="the row reader broke"):
            ahead.take(4)
        with pytest.raises(ValueError, match="the row reader broke"):
            ahead.take(4)  # and stays broken


def test_closing_stops_the_reader_mid_way() -> None:
    ahead = ReadAhead(lambda item: item, range(1000), limit=10)
    assert ahead.take(10) == list(range(10))
    with ahead.meanwhile():
        pass
    ahead.close()
    assert all(t.name != "import-read-ahead" for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="closed"):
        ahead.take(10)


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        ReadAhead(lambda item: item, [1], limit=0)
