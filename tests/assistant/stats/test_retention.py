"""Retention: conversation text older than N days is deleted; every figure stays."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage, OutboxMessage
from assistant.dialogue.models import Conversation
from assistant.privacy.retention import Retention
from assistant.privacy.settings import PrivacySettings
from assistant.queue.models import Ticket, TicketMessage
from assistant.stats.figures import Scope, Statistics
from knowledge.db import make_engine, migrate
from tests.assistant.stats.traffic import DAY1, DAY2, at, conversation, entry, message, rating, ticket

NOW = at(DAY2 + timedelta(days=200))
RECENT = NOW - timedelta(days=10)


@pytest.fixture
def engine(tmp_path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'fazhi.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def _traffic(engine: Engine) -> None:
    """Old traffic on DAY1/DAY2 (200 days before NOW), and some from ten days ago."""
    with Session(engine) as s, s.begin():
        wages = entry(s, "拖欠工资怎么办")
        for when in (at(DAY1), at(DAY2), RECENT):
            message(s, "o_old", "answer", when, "劳动争议", content="老板拖欠工资", entry_id=wages)
            message(s, "o_old", "escalate", when, "劳动争议", content="转人工")
            message(s, "o_old", "decline", when, content="你好")
            rating(s, "o_old", wages, 1, when)
        ticket(s, "o_old", at(DAY1), region="北京市海淀区", rating=5, lines=("老板拖欠工资", "转人工"))
        ticket(s, "o_open", at(DAY2), status="claimed", question="还没人答复", lines=("还没人答复",))
        ticket(s, "o_new", RECENT, question="最近的问题", lines=("最近的问题",))
        conversation(s, "o_old", at(DAY2))
        conversation(s, "o_new", RECENT, topic="最近的问题")
        s.add(OutboxMessage(openid="o_old", part=1, content="待发送的回复", status="held",
                            created_at=at(DAY1), next_attempt_at=at(DAY1)))


def _texts(engine: Engine) -> dict[str, list[str]]:
    with Session(engine) as s:
        return {
            "inbound": [m.content for m in s.scalars(select(InboundMessage).order_by(InboundMessage.id))],
            "outbox": [m.content for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))],
            "tickets": [t.question for t in s.scalars(select(Ticket).order_by(Ticket.id))],
            "lines": [m.content for m in s.scalars(select(TicketMessage).order_by(TicketMessage.id))],
            "topics": [c.last_topic for c in s.scalars(select(Conversation).order_by(Conversation.openid))],
            "history": [c.history for c in s.scalars(select(Conversation).order_by(Conversation.openid))],
        }


def test_a_purge_clears_old_text_and_keeps_recent_text_and_open_tickets(engine):
    _traffic(engine)
    result = Retention(engine).purge(180, now=NOW)
    texts = _texts(engine)
    assert texts["inbound"] == [""] * 6 + ["老板拖欠工资", "转人工", "你好"]
    assert texts["outbox"] == [""] * 6 + ["回复"] * 3 + ["待发送的回复"]  # held: still to be sent
    assert texts["tickets"] == ["", "还没人答复", "最近的问题"]  # the claimed one is still worked on
    assert texts["lines"] == ["", "", "还没人答复", "最近的问题"]
    assert texts["topics"] == ["最近的问题", None] and texts["history"] == [["最近的问题"], []]
    assert result.cleared == {"居民消息": 6, "回复消息": 6, "咨询单问题": 1, "咨询单对话": 2, "近期提问": 1}


def test_a_purge_leaves_every_figure_of_the_past_days_unchanged(engine):
    _traffic(engine)
    stats = Statistics(engine)
    past = Scope(DAY1, DAY2)
    whole = Scope(DAY1, NOW.date())
    before = [stats.dashboard(scope, now=NOW).to_dict() for scope in (past, whole)]
    assert before[0]["messages"]["total"] == 6 and before[0]["decisions"]["counts"]["answer"] == 2
    Retention(engine).purge(180, now=NOW)
    after = [stats.dashboard(scope, now=NOW).to_dict() for scope in (past, whole)]
    assert after == before
    assert stats.dashboard(Scope(DAY1, DAY2, region="海淀区"), now=NOW).queue.overall.tickets == 1


def test_a_second_purge_or_a_dry_run_changes_nothing(engine):
    _traffic(engine)
    retention = Retention(engine)
    planned = retention.purge(180, now=NOW, dry_run=True)
    assert _texts(engine)["inbound"][0] == "老板拖欠工资"
    done = retention.purge(180, now=NOW)
    assert planned.cleared == done.cleared and done.total == 16
    assert retention.purge(180, now=NOW).total == 0


def test_large_purges_go_in_small_batches(engine):
    _traffic(engine)
    result = Retention(engine, PrivacySettings(retention_batch=2)).purge(180, now=NOW)
    assert result.cleared["居民消息"] == 6 and _texts(engine)["inbound"][:6] == [""] * 6


def test_retention_days_come_from_the_setting_and_zero_keeps_everything(engine):
    _traffic(engine)
    assert Retention(engine, PrivacySettings(retention_days=0)).step() is False
    assert _texts(engine)["inbound"][0] == "老板拖欠工资"
    with pytest.raises(ValueError, match="FAZHI_RETENTION_DAYS"):
        Retention(engine, PrivacySettings(retention_days=0)).purge()
    assert Retention(engine, PrivacySettings(retention_days=5)).purge(now=NOW).cleared["居民消息"] == 9


@pytest.mark.postgres
def test_the_figures_and_a_purge_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    migrate(engine)
    try:
        _traffic(engine)
        stats = Statistics(engine)
        before = stats.dashboard(Scope(DAY1, DAY2), now=NOW)
        assert before.decisions.counts["escalate"] == 2 and before.disliked[0].dislikes == 2
        assert stats.dashboard(Scope(DAY1, DAY2, region="海淀区"), now=NOW).queue.overall.tickets == 1
        assert Retention(engine).purge(180, now=NOW).total == 16
        assert stats.dashboard(Scope(DAY1, DAY2), now=NOW).to_dict() == before.to_dict()
    finally:
        engine.dispose()


def test_a_purge_deletes_the_vectors_derived_from_residents_questions(engine, tmp_path):
    from assistant.learning.groups import question_vector_files

    _traffic(engine)
    cache = tmp_path / "cache"
    cache.mkdir()
    derived = cache / "question-vectors-hashing.sqlite"
    derived.write_bytes(b"vectors")
    kept = cache / "vectors-hashing.sqlite"  # the index's passage vectors: our own text
    kept.write_bytes(b"vectors")
    Retention(engine, derived_files=lambda: question_vector_files(cache)).purge(180, now=NOW)
    assert not derived.exists() and kept.exists()
