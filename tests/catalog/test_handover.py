"""How a holder learns of a waiter (mlops_lab/catalog/handover.py): the bell a waiter
rings, and a keeper that sleeps while nobody waits."""

from __future__ import annotations

import multiprocessing
import os
import select
import sys
import time
from pathlib import Path

import pytest

from mlops_lab.catalog import lease as leases
from mlops_lab.catalog.catalog import Catalog
from mlops_lab.catalog.handover import SAFETY_SECONDS, Waiters
from mlops_lab.workspace import Workspace

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="bells are abstract Unix sockets"
)


def _rung(bell_fd: int, timeout: float) -> bool:
    readable, _, _ = select.select([bell_fd], [], [], timeout)
    return bool(readable)


@linux_only
def test_a_waiter_rings_the_holders_bell(tmp_path: Path) -> None:
    holder, waiter = Waiters(tmp_path / "db.duckdb"), Waiters(tmp_path / "db.duckdb")
    bell = holder.open_bell()
    assert bell is not None
    assert not _rung(bell.fileno(), 0.0)
    with waiter.announce():
        assert holder.someone_waits()
        assert _rung(bell.fileno(), 1.0)
    assert not holder.someone_waits()
    holder.close_bell()


@linux_only
def test_one_bell_per_file_and_it_is_free_once_closed(tmp_path: Path) -> None:
    first, second = Waiters(tmp_path / "a.duckdb"), Waiters(tmp_path / "a.duckdb")
    other = Waiters(tmp_path / "b.duckdb")
    assert first.open_bell() is not None
    assert second.open_bell() is None  # the name is the holder's
    assert other.open_bell() is not None  # another file, another bell
    first.close_bell()
    assert second.open_bell() is not None
    second.close_bell()
    other.close_bell()


def test_ringing_nobody_is_quiet(tmp_path: Path) -> None:
    waiter = Waiters(tmp_path / "nobody.duckdb")
    waiter.ring()  # no holder: nothing to wake, no error
    with waiter.announce():
        pass
    # nothing in the folder but the .wait file: a bell is no file (copying works)
    assert [p.name for p in tmp_path.iterdir()] == ["nobody.duckdb.wait"]


@linux_only
def test_an_idle_holder_sleeps_and_keeps_its_bell(workspace: Workspace) -> None:
    workspace.catalog.read("SELECT 1")
    lease = leases.lease_for(workspace.catalog_path)
    time.sleep(0.1)
    assert lease.waiters.bell is not None  # bound by the keeper while held
    before = leases._keeper.sweeps
    time.sleep(0.5)
    looked = leases._keeper.sweeps - before
    # Every SAFETY_SECONDS (10 in 0.5 s), not every 2 ms (250) as before the bell.
    assert looked <= 0.5 / SAFETY_SECONDS * 2, looked
    assert lease.con is not None


@linux_only
def test_the_bell_hands_the_catalog_over_and_is_let_go(workspace: Workspace) -> None:
    workspace.catalog.read("SELECT 1")
    lease = leases.lease_for(workspace.catalog_path)
    time.sleep(0.1)
    assert lease.waiters.bell is not None
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        count = pool.apply(_count_models, (str(workspace.catalog_path),))
    assert count == 0
    assert lease.con is None
    deadline = time.monotonic() + 2
    while lease.waiters.bell is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lease.waiters.bell is None  # free for the next holder to bind


def _count_models(path: str) -> int:
    return int(Catalog(path).read_value("SELECT count(*) FROM models"))


@linux_only
def test_a_forked_child_waits_like_any_process_and_drops_the_parents_keeper(
    workspace: Workspace,
) -> None:
    workspace.catalog.read("SELECT 1")
    lease = leases.lease_for(workspace.catalog_path)
    time.sleep(0.1)
    assert lease.waiters.bell is not None
    parents = (leases._keeper._nudge_r, leases._keeper._nudge_w)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        count, closed = pool.apply(_in_forked_child, (str(workspace.catalog_path), parents))
    assert count == 0  # the parent rang, handed over
    assert closed  # the child closed its copies of the parent's keeper pipe
    assert lease.con is None


def _in_forked_child(path: str, parents: tuple[int, int]) -> tuple[int, bool]:
    closed = True
    for fd in parents:
        if fd in (leases._keeper._nudge_r, leases._keeper._nudge_w):
            continue  # the number was reused by the child's own keeper
        try:
            os.fstat(fd)
            closed = False
        except OSError:
            pass
    return _count_models(path), closed
