"""``fazhi privacy purge`` and the service's retention loop delete old conversation text."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli.parser import main
from api.wechat.models import InboundMessage
from knowledge.db import make_engine, migrate
from knowledge.timeutil import utcnow
from tests.assistant.stats.traffic import message, ticket
from tests.helpers import wait_until


def _contents(engine) -> list[str]:
    with Session(engine) as s:
        return [m.content for m in s.scalars(select(InboundMessage).order_by(InboundMessage.id))]


def _old_and_new(engine) -> None:
    with Session(engine) as s, s.begin():
        message(s, "o1", "answer", utcnow() - timedelta(days=40), content="四十天前的问题")
        message(s, "o1", "escalate", utcnow() - timedelta(days=40), content="转人工")
        message(s, "o1", "answer", utcnow() - timedelta(days=5), content="五天前的问题")
        ticket(s, "o1", utcnow() - timedelta(days=40), question="四十天前的问题")


def test_fazhi_privacy_purge_deletes_text_older_than_n_days(settings, monkeypatch, capsys):
    engine = make_engine(settings.storage.sqlalchemy_url)
    migrate(engine)
    _old_and_new(engine)
    monkeypatch.setenv("FAZHI_DATA_DIR", str(settings.storage.data_dir))
    assert main(["privacy", "purge", "--older-than-days", "30"]) == 0
    out = capsys.readouterr().out
    assert "已删除" in out and "居民消息：2 条" in out and "咨询单问题：1 条" in out and "合计 6 条" in out
    assert _contents(engine) == ["", "", "五天前的问题"]
    assert main(["privacy", "purge", "--older-than-days", "30"]) == 0
    assert "合计 0 条" in capsys.readouterr().out
    engine.dispose()


def test_a_dry_run_counts_and_deletes_nothing(settings, monkeypatch, capsys):
    engine = make_engine(settings.storage.sqlalchemy_url)
    migrate(engine)
    _old_and_new(engine)
    monkeypatch.setenv("FAZHI_DATA_DIR", str(settings.storage.data_dir))
    monkeypatch.setenv("FAZHI_RETENTION_DAYS", "3")
    assert main(["privacy", "purge", "--dry-run"]) == 0  # the setting: 3 days
    assert "将删除" in capsys.readouterr().out.split("\n")[0]
    assert _contents(engine) == ["四十天前的问题", "转人工", "五天前的问题"]
    monkeypatch.setenv("FAZHI_RETENTION_DAYS", "0")
    assert main(["privacy", "purge"]) == 2
    assert "--older-than-days" in capsys.readouterr().err
    engine.dispose()


def test_the_service_deletes_old_text_in_the_background(wx_env_factory):
    env = wx_env_factory(retention_days=30, retention_check_s=0.1)
    _old_and_new(env.engine)
    wait_until(lambda: _contents(env.engine)[:2] == ["", ""], what="the old text purged")
    assert _contents(env.engine)[2] == "五天前的问题"
    assert env.sim.send_text("o2", "公司拖欠工资怎么办").reply  # the channel answers on
