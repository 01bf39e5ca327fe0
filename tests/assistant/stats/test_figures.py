"""The dashboard's figures on known rows: messages per day, decision shares, categories,
regions, satisfaction, dislikes per entry and the lawyer queue's figures."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from assistant.stats import tables
from assistant.stats.figures import Scope, ScopeError, Statistics
from knowledge.db import make_engine, migrate
from tests.assistant.stats.traffic import DAY1, DAY2, at, entry, message, rating, ticket


@pytest.fixture
def engine(tmp_path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'fazhi.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def _figures(engine: Engine, first: date = DAY1, last: date = DAY2, **filters):
    return Statistics(engine).dashboard(Scope(first, last, **filters), now=at(DAY2, 23))


def test_the_statistics_read_columns_the_channels_model_has():
    model = InboundMessage.__table__
    for col in tables.inbound.columns:
        assert col.name in model.c, col.name
        assert type(col.type) is type(model.c[col.name].type) or col.name == "openid", col.name


def test_messages_per_day_and_decision_shares_count_each_decided_message(engine):
    with Session(engine) as s, s.begin():
        for decision in ("answer", "answer", "suggest", "decline", "rating"):
            message(s, "o1", decision, at(DAY1), "劳动争议")
        message(s, "o1", None, at(DAY1), msg_type="event", content="subscribe")  # not a message
        message(s, "o2", "escalate", at(DAY2, 9), "婚姻家庭")
        message(s, "o2", "emergency", at(DAY2, 23, 59), "婚姻家庭")
        message(s, "o3", "answer", at(DAY2 + timedelta(days=1), 0, 0), "劳动争议")  # the day after
    d = _figures(engine)
    assert [(x.day, x.messages) for x in d.days] == [(DAY1, 5), (DAY2, 2)]
    assert d.days[0].decisions == {"answer": 2, "suggest": 1, "escalate": 0, "decline": 1, "emergency": 0}
    assert d.messages == 7 and d.decisions.total == 6
    assert d.decisions.counts == {"answer": 2, "suggest": 1, "escalate": 1, "decline": 1, "emergency": 1}
    assert d.decisions.share("answer") == pytest.approx(2 / 6)
    assert d.to_dict()["decisions"]["shares"]["emergency"] == pytest.approx(1 / 6)


def test_a_category_filter_keeps_only_that_categorys_questions(engine):
    with Session(engine) as s, s.begin():
        message(s, "o1", "answer", at(DAY1), "劳动争议")
        message(s, "o1", "escalate", at(DAY1), "劳动争议")
        message(s, "o1", "decline", at(DAY1), "劳动争议")  # small talk is no labour question
        message(s, "o2", "answer", at(DAY1), "婚姻家庭")
        message(s, "o2", "suggest", at(DAY1), None)
    labour = _figures(engine, category="劳动争议")
    assert labour.decisions.counts == {"answer": 1, "suggest": 0, "escalate": 1, "decline": 0, "emergency": 0}
    assert labour.messages == 2
    everything = _figures(engine)
    assert [(c.category, c.questions, c.answered) for c in everything.categories] == \
        [("劳动争议", 2, 1), ("婚姻家庭", 1, 1), ("未分类", 1, 0)]
    assert everything.categories[0].answer_rate == 0.5


def test_a_region_filter_counts_the_residents_who_said_they_are_there(engine):
    with Session(engine) as s, s.begin():
        ticket(s, "o_haidian", at(DAY1, 8), region="北京市海淀区中关村大街1号")
        ticket(s, "o_chaoyang", at(DAY1, 8), region="北京市朝阳区")
        message(s, "o_haidian", "answer", at(DAY1), "劳动争议")
        message(s, "o_haidian", "escalate", at(DAY1), "劳动争议")
        message(s, "o_chaoyang", "answer", at(DAY1), "劳动争议")
        message(s, "o_nowhere", "answer", at(DAY1), "劳动争议")
    d = _figures(engine, region="海淀区")
    assert d.decisions.counts["answer"] == 1 and d.decisions.total == 2
    assert d.queue.overall.tickets == 1
    assert _figures(engine).decisions.total == 4


def test_satisfaction_and_dislikes_per_entry(engine):
    with Session(engine) as s, s.begin():
        wages = entry(s, "拖欠工资怎么办")
        rent = entry(s, "房东不退押金怎么办", "房屋租赁")
        divorce = entry(s, "离婚财产怎么分", "婚姻家庭")
        for score, reason in ((1, "wrong"), (1, "unclear"), (5, None)):
            rating(s, "o1", wages, score, at(DAY1), reason)
        rating(s, "o2", rent, 5, at(DAY1))
        rating(s, "o3", divorce, 2, at(DAY2))
        rating(s, "o4", divorce, 1, at(DAY2 + timedelta(days=3)))  # after the period
    d = _figures(engine)
    assert (d.answers.count, d.answers.satisfied, d.answers.dissatisfied) == (5, 2, 3)
    assert d.answers.satisfied_share == pytest.approx(0.4)
    assert [(x.title, x.dislikes, x.ratings) for x in d.disliked] == \
        [("拖欠工资怎么办", 2, 3), ("离婚财产怎么分", 1, 1)]
    assert d.disliked[0].reasons_text == "看不懂 1、我觉得不对 1" and d.disliked[1].reasons == {}
    rent_only = _figures(engine, category="房屋租赁")
    assert (rent_only.answers.count, rent_only.disliked) == (1, ())


def test_the_lawyer_figures_are_the_queue_report_of_the_same_tickets(engine):
    with Session(engine) as s, s.begin():
        ticket(s, "o1", at(DAY1), rating=5, responded_after=timedelta(minutes=10))
        ticket(s, "o2", at(DAY1), rating=1, responded_after=timedelta(minutes=50))
        ticket(s, "o3", at(DAY2), category="婚姻家庭", status="waiting", responded_after=None)
    d = _figures(engine)
    st = d.queue.overall
    assert (st.tickets, st.responded, st.median_first_response_s) == (3, 2, 30 * 60)
    assert (d.lawyers.count, d.lawyers.satisfied, d.lawyers.dissatisfied) == (2, 1, 1)
    labour = _figures(engine, category="劳动争议")
    assert labour.queue.overall.tickets == 2 and labour.queue.overall.overdue == 0
    family = _figures(engine, category="婚姻家庭")
    assert family.queue.overall.overdue == 0  # due at DAY2 10:00 + 24 h, "now" is DAY2 23:00


def test_a_period_backwards_or_over_a_year_is_refused():
    with pytest.raises(ScopeError, match="结束日期早于开始日期"):
        Scope(DAY2, DAY1)
    with pytest.raises(ScopeError, match="最长 366 天"):
        Scope(DAY1, DAY1 + timedelta(days=366))
    assert len(Scope(DAY1, DAY1 + timedelta(days=365)).days) == 366


def test_the_questions_behind_a_dislike_are_shown_masked(engine):
    with Session(engine) as s, s.begin():
        wages = entry(s, "拖欠工资怎么办")
        message(s, "o1", "suggest", at(DAY1, 9), content="我身份证110101199003071234，电话13812345678，老板不发工资")
        message(s, "o1", "answer", at(DAY1, 9, 1), content="2", entry_id=wages)
        rating(s, "o1", wages, 1, at(DAY1, 9, 2))
    stats = Statistics(engine)
    [text] = stats.disliked_examples(Scope(DAY1, DAY2), [wages])[wages]
    assert "110101********1234" in text and "138****5678" in text
    assert "110101199003071234" not in text and "13812345678" not in text
