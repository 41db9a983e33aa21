"""Batch sizes follow the writer's hold: a batch that held the writer long makes the
next ones smaller, short holds let them grow back to the configured size."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.imports import batches
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.schemas import RunView
from ehrlich.imports.service import HOLD_AIM, MIN_BATCH, ImportsService, next_batch_size
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.imports.helpers import plan, suppress_sample
from tests.imports.sample import make_sample


@given(size=st.integers(1, 5000), held=st.floats(0, 100), largest=st.integers(1, 5000))
def test_next_size_stays_within_bounds(size: int, held: float, largest: int) -> None:
    found = next_batch_size(size, held, largest=largest)
    assert min(MIN_BATCH, largest) <= found <= largest
    assert found <= max(2 * size, min(MIN_BATCH, largest))  # grows at most twofold


@given(size=st.integers(MIN_BATCH, 1000), shorter=st.floats(0, 10), longer=st.floats(0, 10))
def test_a_longer_hold_never_gives_a_larger_batch(size: int, shorter: float,
                                                  longer: float) -> None:
    shorter, longer = sorted((shorter, longer))
    assert (next_batch_size(size, longer, largest=1000)
            <= next_batch_size(size, shorter, largest=1000))


def test_sizes_shrink_in_proportion_and_grow_back() -> None:
    assert next_batch_size(200, 4 * HOLD_AIM, largest=200) == 50
    assert next_batch_size(50, HOLD_AIM / 4, largest=200) == 100  # at most doubled
    assert next_batch_size(100, HOLD_AIM / 4, largest=200) == 200
    assert next_batch_size(200, 0.0, largest=200) == 200


def test_an_import_on_a_slow_writer_commits_smaller_batches(
        published: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()  # every reading of the clock is a second later
    monkeypatch.setattr(batches, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    sample = make_sample(500)
    suppress_sample(published, sample)
    table = read_table(sample.raw)
    imports = published.service(ImportsService)
    imports.batch_size = 200
    run = imports.create_run(published.db, table, plan(), actor="staff:test", now=NOW)
    done: list[int] = []

    def progress(view: RunView) -> None:
        done.append(view.done_rows)

    finished = imports.run(published.db, run.id, table, mail=published.mail, now=NOW,
                           progress=progress)
    sizes = [b - a for a, b in itertools.pairwise([0, *done])]
    assert sizes[:4] == [200, 50, 12, MIN_BATCH]  # each held "1 s": 4x the aim
    assert sum(sizes) == len(table.rows)
    assert (finished.created, finished.merged, finished.rejected) == (
        sample.created, sample.merged, len(sample.rejected))
