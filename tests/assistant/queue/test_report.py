"""Service figures, overall and per lawyer, and ``fazhi report`` on a known October."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from api.cli.parser import main
from api.cli.report import period
from api.settings import Settings
from assistant.durations import duration_text
from assistant.queue.desk import Desk
from assistant.queue.models import Ticket
from assistant.queue.report import p90
from assistant.queue.staff import Accounts
from knowledge.db import make_engine, migrate
from knowledge.timeutil import CHINA_TZ
from tests.helpers import FAST_HASHER

MIN = timedelta(minutes=1)


def cst(day: int, hour: int = 10, minute: int = 0, month: int = 10) -> datetime:
    """A Beijing time, as the app stores times: in UTC (SQLite compares them as written)."""
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


@pytest.fixture
def october(settings: Settings):
    """Seven tickets in October 2026 (Beijing time), one just before it."""
    engine = make_engine(settings.storage.sqlalchemy_url)
    migrate(engine)
    accounts = Accounts(engine, hasher=FAST_HASHER)
    zhang = accounts.add("zhang", "password-1", "张律师", "lawyer").id
    li = accounts.add("li", "password-2", "李律师", "lawyer").id
    accounts.add("wang", "password-3", "王律师", "lawyer")
    accounts.add("boss", "password-4", "管理员", "admin")
    day = timedelta(hours=24)
    rows = [  # created, owner, status, first response after, closed after, rating
        (cst(2), zhang, "closed", 10 * MIN, 60 * MIN, 5),
        (cst(3), zhang, "answered", 30 * MIN, None, 4),
        (cst(4), zhang, "closed", 26 * 60 * MIN, 30 * 60 * MIN, 2),  # answered late
        (cst(5), li, "expired", 20 * MIN, 8 * day, None),
        (cst(6), li, "claimed", None, None, None),  # never answered: overdue now
        (cst(7), None, "waiting", None, None, None),  # nobody took it: overdue now
        (cst(31, 23, 59), zhang, "answered", 5 * MIN, None, None),  # last minute of October
        (cst(30, 23, 30, month=9), zhang, "closed", MIN, 2 * MIN, 1),  # September: left out
    ]
    with Session(engine) as s, s.begin():
        for i, (created, owner, status, first, closed, rating) in enumerate(rows):
            s.add(Ticket(ticket_no=f"FZ{i}", openid=f"o{i}", status=status, priority="normal",
                         reason="", question="问题", candidates=[], created_at=created,
                         updated_at=created, deadline_at=created + day, claimed_by=owner,
                         first_response_at=created + first if first else None,
                         closed_at=created + closed if closed else None, rating=rating))
    yield engine, settings, {"zhang": zhang, "li": li}
    engine.dispose()


def test_percentiles_and_durations_in_words():
    assert p90([]) is None and p90([7.0]) == 7.0
    assert p90([float(i) for i in range(1, 11)]) == 9.0  # nearest rank: ceil(0.9*10) = 9th
    assert p90([float(i) for i in range(1, 12)]) == 10.0
    assert [duration_text(x) for x in (None, 42, 600, 3600 + 300, 3 * 86400 + 7200)] == \
        ["—", "42秒", "10分钟", "1小时05分", "3天2小时"]


def test_the_period_is_whole_days_in_beijing_time():
    start, end = period(datetime(2026, 10, 1).date(), datetime(2026, 10, 31).date())
    assert start == cst(1, 0) and end == cst(1, 0, month=11)
    with pytest.raises(ValueError):
        period(datetime(2026, 10, 2).date(), datetime(2026, 10, 1).date())


def test_figures_overall_and_per_lawyer(october):
    engine, settings, ids = october
    rep = Desk(engine, settings.queue).report(*period(cst(1).date(), cst(31).date()))
    o = rep.overall
    assert (o.tickets, o.responded) == (7, 5) and o.response_rate == pytest.approx(5 / 7)
    assert o.median_first_response_s == 20 * 60  # of 5, 10, 20, 30 minutes and 26 hours
    assert o.p90_first_response_s == 26 * 3600
    assert (o.closed, o.expired, o.overdue) == (2, 1, 3)
    assert o.median_close_s == (3600 + 30 * 3600) / 2
    assert (o.rating_count, o.rating_mean) == (3, pytest.approx(11 / 3))

    by_name = {ls.name: ls for ls in rep.lawyers}
    assert list(by_name) == ["张律师", "李律师", "王律师", "（未接单）"]  # the admin is no lawyer
    zhang = by_name["张律师"].stats
    assert (zhang.tickets, zhang.responded, zhang.response_rate) == (4, 4, 1.0)
    assert zhang.median_first_response_s == 20 * 60  # 5, 10, 30 minutes, 26 hours
    assert (zhang.overdue, zhang.rating_count) == (1, 3)
    li = by_name["李律师"].stats
    assert (li.tickets, li.response_rate, li.overdue, li.expired) == (2, 0.5, 1, 1)
    assert li.rating_mean is None and li.median_close_s is None
    wang = by_name["王律师"].stats
    assert (wang.tickets, wang.response_rate) == (0, None)
    assert by_name["（未接单）"].lawyer_id is None and by_name["（未接单）"].stats.overdue == 1
    assert by_name["张律师"].lawyer_id == ids["zhang"]


def test_fazhi_report_prints_chinese_figures_and_json(october, monkeypatch, capsys):
    engine, settings, _ = october
    monkeypatch.setenv("FAZHI_DATA_DIR", str(settings.storage.data_dir))
    assert main(["report", "--from", "2026-10-01", "--to", "2026-10-31"]) == 0
    out = capsys.readouterr().out
    assert "律师咨询服务报告（2026-10-01 至 2026-10-31，北京时间）" in out
    assert "咨询单：7    已首次答复：5    答复率：71.4%" in out
    assert "首次答复用时：中位数 20分钟，P90 26小时00分" in out
    assert "超时：3" in out and "满意度：3.67 分（3 人评价）" in out
    assert "【张律师】" in out and "【（未接单）】" in out

    assert main(["report", "--from", "2026-10-01", "--to", "2026-10-31", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["tickets"] == 7 and data["overall"]["overdue"] == 3
    assert {row["name"]: row["tickets"] for row in data["lawyers"]} == \
        {"张律师": 4, "李律师": 2, "王律师": 0, "（未接单）": 1}

    # One day only: the ticket of the last minute of October.
    assert main(["report", "--from", "2026-10-31", "--to", "2026-10-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["tickets"] == 1


def test_fazhi_report_refuses_bad_dates(october, monkeypatch, capsys):
    engine, settings, _ = october
    monkeypatch.setenv("FAZHI_DATA_DIR", str(settings.storage.data_dir))
    assert main(["report", "--from", "2026-10-31", "--to", "2026-10-01"]) == 2
    assert "结束日期早于开始日期" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--from", "2026/10/01", "--to", "2026-10-31"])
    assert "YYYY-MM-DD" in capsys.readouterr().err
