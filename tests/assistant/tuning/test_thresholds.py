"""Thresholds in the database: validation, the audited save, and every worker following them."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from assistant.policy import Thresholds
from assistant.tuning import thresholds
from assistant.tuning.thresholds import InvalidThresholds, ThresholdSync

DEFAULT = Thresholds(0.45, 0.2, 0.1)


@dataclass
class Worker:
    """What a sync keeps up to date: anything with ``thresholds`` (the assistant when serving)."""

    thresholds: Thresholds = DEFAULT


@pytest.mark.parametrize(("values", "ok"), [
    ((0.45, 0.2, 0.1), True), ((1.0, 1.0, 1.0), True), ((0.0, 0.0, 0.0), True), ((0.5, 0.5, 0.2), True),
    ((0.3, 0.4, 0.1), False), ((0.5, 0.2, 0.3), False), ((1.01, 0.2, 0.1), False), ((0.5, 0.2, -0.01), False),
    ((float("nan"), 0.2, 0.1), False), ((float("inf"), 0.2, 0.1), False),
])
def test_thresholds_must_satisfy_0_le_floor_le_suggest_le_answer_le_1(values, ok):
    if ok:
        assert thresholds.validate(*values) == Thresholds(*values)
    else:
        with pytest.raises(InvalidThresholds):
            thresholds.validate(*values)


def test_before_any_save_the_defaults_are_in_force_at_revision_0(engine):
    stored = thresholds.current(engine, DEFAULT)
    assert (stored.thresholds, stored.revision) == (DEFAULT, 0)


def test_each_save_bumps_the_revision_and_audits_old_to_new_with_who_and_why(engine):
    thresholds.save(engine, Thresholds(0.6, 0.3, 0.1), 7, "王主任", "更保守", DEFAULT)
    thresholds.save(engine, Thresholds(0.5, 0.25, 0.05), 8, "李副主任", "放宽一点", DEFAULT)
    assert thresholds.current(engine, DEFAULT).thresholds == Thresholds(0.5, 0.25, 0.05)
    assert thresholds.revision(engine) == 2
    newest, first = thresholds.changes(engine)
    assert (first.old, first.new, first.actor_name, first.reason, first.revision) == (
        DEFAULT, Thresholds(0.6, 0.3, 0.1), "王主任", "更保守", 1)
    assert (newest.old, newest.new, newest.actor_name, newest.reason) == (
        Thresholds(0.6, 0.3, 0.1), Thresholds(0.5, 0.25, 0.05), "李副主任", "放宽一点")


def test_a_save_without_a_reason_is_refused_and_stores_nothing(engine):
    with pytest.raises(InvalidThresholds, match="请填写修改原因"):
        thresholds.save(engine, Thresholds(0.6, 0.3, 0.1), 7, "王主任", "  ", DEFAULT)
    assert thresholds.revision(engine) == 0 and thresholds.changes(engine) == []


def test_a_sync_leaves_a_worker_alone_until_thresholds_are_saved_then_follows_them(engine):
    worker = Worker(Thresholds(0.4, 0.2, 0.1))  # e.g. from its own settings
    sync = ThresholdSync(engine, worker)
    sync.step()
    assert worker.thresholds == Thresholds(0.4, 0.2, 0.1)
    thresholds.save(engine, Thresholds(0.7, 0.3, 0.05), None, "王主任", "调整", DEFAULT)
    sync.step()
    assert worker.thresholds == Thresholds(0.7, 0.3, 0.05) and sync.applied == 1


def test_a_sync_reloads_only_when_the_revision_moved(engine):
    thresholds.save(engine, Thresholds(0.7, 0.3, 0.05), None, "王主任", "调整", DEFAULT)
    worker = Worker()
    sync = ThresholdSync(engine, worker)
    sync.step()
    worker.thresholds = Thresholds(0.9, 0.9, 0.9)  # set by hand: not overwritten without a new save
    sync.step()
    assert worker.thresholds == Thresholds(0.9, 0.9, 0.9)


@pytest.mark.postgres
def test_on_postgresql_a_save_reaches_a_worker_on_another_connection(pg_url):
    from knowledge.db import make_engine, migrate

    admin, worker_db = make_engine(pg_url), make_engine(pg_url)
    migrate(admin)
    worker = Worker()
    sync = ThresholdSync(worker_db, worker)
    thresholds.save(admin, Thresholds(0.6, 0.3, 0.1), 1, "王主任", "更保守", DEFAULT)
    thresholds.save(admin, Thresholds(0.55, 0.3, 0.1), 1, "王主任", "略放宽", DEFAULT)
    sync.step()
    assert worker.thresholds == Thresholds(0.55, 0.3, 0.1) and sync.applied == 2
    assert [c.revision for c in thresholds.changes(worker_db)] == [2, 1]
    admin.dispose()
    worker_db.dispose()
