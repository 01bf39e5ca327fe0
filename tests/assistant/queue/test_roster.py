"""The on-duty roster on real SQLite: the console toggle and the weekly schedule decide who
is on duty now, and the resident's expected wait counts the lawyers actually on duty."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from api.settings import Settings
from assistant.queue import intake
from assistant.queue import roster as duty
from assistant.queue.roster import InvalidShift, Roster, ShiftNotFound
from assistant.queue.settings import QueuePolicy
from assistant.queue.staff import Accounts
from knowledge.db import make_engine, migrate
from knowledge.timeutil import utcnow
from tests.assistant.alerts.receivers import answered_ticket
from tests.helpers import FAST_HASHER, new_ticket

WEDNESDAY_1030 = datetime(2026, 3, 4, 2, 30, tzinfo=UTC)  # 10:30 in Beijing
WEDNESDAY, THURSDAY = 2, 3


@pytest.fixture
def engine(settings: Settings):
    eng = make_engine(settings.storage.sqlalchemy_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def team(engine):
    accounts = Accounts(engine, hasher=FAST_HASHER)
    return accounts, [accounts.add(n, "password-1", f"{n}律师", "lawyer") for n in ("zhang", "li", "wang")]


def on_duty(engine, now: datetime) -> set[int]:
    with Session(engine) as s:
        return duty.on_duty_ids(s, now)


def test_the_toggle_and_the_weekly_schedule_decide_who_is_on_duty(engine, team):
    accounts, (zhang, li, wang) = team
    roster = Roster(engine)
    now = WEDNESDAY_1030
    assert on_duty(engine, now) == {zhang.id, li.id, wang.id}  # no roster yet: every lawyer
    roster.set_on_duty(zhang.id, True)
    assert on_duty(engine, now) == {zhang.id}  # the roster is in use now
    roster.add_shift(li.id, WEDNESDAY, "09:00", "12:00")
    roster.add_shift(li.id, THURSDAY, "14:00", "18:00")
    assert on_duty(engine, now) == {zhang.id, li.id}
    assert on_duty(engine, now + timedelta(hours=2)) == {zhang.id}  # 12:30: li's shift ended
    assert on_duty(engine, now + timedelta(days=1, hours=4)) == {zhang.id, li.id}  # Thu 14:30
    roster.set_on_duty(zhang.id, False)
    assert on_duty(engine, now + timedelta(hours=2)) == set()
    accounts.disable("li")
    assert on_duty(engine, now) == set()  # a disabled account is on nobody's roster
    view = roster.status(li.id, now)
    assert view.on_duty and view.current is not None and view.current.label == "周三 09:00–12:00"


def test_shifts_must_be_well_formed_and_not_overlap(engine, team):
    _, (zhang, _li, _wang) = team
    roster = Roster(engine)
    first = roster.add_shift(zhang.id, WEDNESDAY, "9:00", "12:30")
    with pytest.raises(InvalidShift, match="结束时间须晚于开始时间"):
        roster.add_shift(zhang.id, WEDNESDAY, "18:00", "08:00")
    with pytest.raises(InvalidShift, match="重叠：周三 09:00–12:30"):
        roster.add_shift(zhang.id, WEDNESDAY, "12:00", "14:00")
    with pytest.raises(InvalidShift, match="HH:MM"):
        roster.add_shift(zhang.id, WEDNESDAY, "noon", "14:00")
    assert roster.add_shift(zhang.id, WEDNESDAY, "20:00", "23:59").label == "周三 20:00–24:00"
    roster.remove_shift(first.id)
    with pytest.raises(ShiftNotFound):
        roster.remove_shift(first.id)
    assert [s.label for s in roster.status(zhang.id).shifts] == ["周三 20:00–24:00"]


def history(engine, handling: timedelta, n: int = 5) -> None:
    """``n`` answered tickets: first response 10 minutes after creation plus ``handling``."""
    for i in range(n):
        tid = new_ticket(engine, f"o_hist{i}", age=timedelta(hours=3))
        answered_ticket(engine, tid, utcnow() - timedelta(hours=3) + timedelta(minutes=10), handling)


def test_the_expected_wait_uses_the_lawyers_on_duty(engine, team):
    _, (zhang, li, wang) = team
    roster = Roster(engine)
    history(engine, timedelta(minutes=30))  # median first response: 40 minutes
    for i in range(10):
        new_ticket(engine, f"o_wait{i}")

    def wait(now: datetime | None = None) -> intake.WaitEstimate:
        with Session(engine) as s:
            return intake.expected_wait(s, QueuePolicy(), "normal", None, now=now or utcnow())

    roster.set_on_duty(zhang.id, True)
    for other in (li, wang):
        roster.set_on_duty(other.id, False)
    one = wait()
    assert (one.basis, one.ahead, one.minutes) == ("history", 10, 11 * 30)  # one at a time
    roster.set_on_duty(li.id, True)
    assert wait().minutes == 6 * 30  # two lawyers: five rounds ahead, then this one
    roster.set_on_duty(wang.id, True)
    assert wait().minutes == 4 * 30
    for lawyer in (zhang, li, wang):
        roster.set_on_duty(lawyer.id, False)
    nobody = wait()
    assert (nobody.basis, nobody.minutes) == ("deadline", 24 * 60)  # only the commitment
    # Nobody on duty now, but li's shift starts in two hours (Beijing time).
    now = utcnow()
    start = (now + timedelta(hours=2)).astimezone(duty.CHINA_TZ)
    roster.add_shift(li.id, start.weekday(), f"{start:%H:%M}", "24:00" if start.hour >= 22 else
                     f"{start.hour + 1:02d}:{start:%M}")
    later = wait(now)
    assert later.basis == "history" and abs(later.minutes - (120 + 11 * 30)) <= 1


def test_the_expected_wait_keeps_the_answering_rate_while_the_roster_is_unused(engine, team):
    history(engine, timedelta(minutes=30))
    for i in range(10):
        new_ticket(engine, f"o_wait{i}")
    with Session(engine) as s:
        est = intake.expected_wait(s, QueuePolicy(), "normal", None)
    assert est.ahead == 10 and abs(est.minutes - 10 * 288) <= 1  # five a day: one per 288 min
