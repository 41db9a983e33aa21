"""The brand the public pages show is kept a few seconds per process: read once within
its lifetime, read again after it, and forgotten as soon as a change commits."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from ehrlich.notices.brand_cache import BrandCache
from ehrlich.notices.branding import plain_brand
from ehrlich.notices.schemas import Brand


class Reads:
    def __init__(self, brand: Brand | None = None) -> None:
        self.count = 0
        self.brand = brand or replace(plain_brand(), name="Radhaus Linden", saved=True,
                                      provisional=False)

    def __call__(self) -> Brand:
        self.count += 1
        return self.brand


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_read_once_within_the_lifetime_and_again_after_it() -> None:
    clock, reads = Clock(), Reads()
    cache = BrandCache(5.0, clock=clock)
    cache.get(reads)
    clock.now += 4.9
    cache.get(reads)
    assert reads.count == 1
    clock.now += 0.2
    cache.get(reads)
    assert reads.count == 2


def test_forgotten_when_the_change_commits_not_before_nor_on_rollback() -> None:
    clock, reads = Clock(), Reads()
    cache = BrandCache(5.0, clock=clock)
    engine = create_engine("sqlite://")
    cache.get(reads)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        cache.forget_after_commit(session)
        cache.get(reads)
        assert reads.count == 1  # not committed yet: still the kept brand
        session.rollback()
    cache.get(reads)
    assert reads.count == 1  # rolled back: nothing changed
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        cache.forget_after_commit(session)
        session.commit()
    cache.get(reads)
    assert reads.count == 2
    engine.dispose()


def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    cache = BrandCache(5.0, clock=Clock())
    reads = Reads()

    def read_while_it_changes() -> Brand:
        cache.forget()  # the change commits while this read is under way
        return reads()

    cache.get(read_while_it_changes)
    cache.get(reads)
    assert reads.count == 2


def test_the_product_name_before_any_notice_is_never_kept() -> None:
    """Before the first publication the pages say "ehrlich"; the publication, often from
    another process, must name the business on the next page, not a lifetime later."""
    reads = Reads(plain_brand())
    cache = BrandCache(5.0, clock=Clock())
    cache.get(reads)
    cache.get(reads)
    assert reads.count == 2
