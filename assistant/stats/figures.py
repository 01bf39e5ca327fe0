"""The dashboard's figures for a period, a category and a region.

Computed only from what a retention purge keeps (``assistant.privacy``): per message the
time, type, decision and category (``wx_inbound``, recorded by the channel since 0007); the
residents' ratings of automatic answers (``wx_ratings``); the tickets' timings, ratings,
categories and regions (``assistant.queue.report`` computes the lawyer queue's figures).  So
the figures of past days do not change when the text is deleted.

* messages: everything residents sent but events (subscribe, menu clicks);
* questions: messages the assistant decided on (answer / suggest / escalate / decline /
  emergency); a resident's "2" that picks a suggestion counts as an answer;
* a category is the one the assistant recorded for the question; declined messages (not
  legal questions) have none, so a category filter leaves them out;
* a region is where a resident said they are (the location on their tickets): with a region
  filter, only residents with a ticket there count;
* a rating of 4-5 is satisfied, 1-2 a dislike (``report.SATISFIED_AT``/``DISSATISFIED_AT``).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, func, select
from sqlalchemy.orm import Session

from assistant.dialogue.models import Rating
from assistant.learning.models import REASON_LABELS
from assistant.outcome import Decision
from assistant.pii import mask_numbers
from assistant.queue import report as queue_report
from assistant.queue.models import Ticket
from assistant.queue.staff import User
from assistant.stats.tables import inbound
from knowledge.db import session_factory
from knowledge.models import Entry
from knowledge.timeutil import CHINA_TZ, as_utc, china_days, utcnow

DECISIONS: tuple[str, ...] = tuple(d.value for d in Decision)
DECISION_LABELS: dict[str, str] = {
    Decision.ANSWER: "直接解答", Decision.SUGGEST: "推荐相关问题", Decision.ESCALATE: "转律师",
    Decision.DECLINE: "非法律问题", Decision.EMERGENCY: "紧急求助",
}
UNCATEGORISED = "未分类"
_REASONS: dict[str, str] = {k.value: v for k, v in REASON_LABELS.items()}
MAX_DAYS = 366
TOP_DISLIKED = 10


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class ScopeError(ValueError):
    """A period or filter that cannot be shown (the message is fit for staff)."""


@dataclass(frozen=True)
class Scope:
    """Calendar days in Beijing time, both included, and optional filters."""

    first: date
    last: date
    category: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ScopeError("结束日期早于开始日期")
        if (self.last - self.first).days >= MAX_DAYS:
            raise ScopeError(f"统计区间最长 {MAX_DAYS} 天")
        object.__setattr__(self, "category", (self.category or "").strip() or None)
        object.__setattr__(self, "region", (self.region or "").strip()[:64] or None)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC, as times are stored (SQLite compares them as written)."""
        start, end = china_days(self.first, self.last)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Day:
    day: date
    messages: int
    decisions: dict[str, int]


@dataclass(frozen=True)
class Decisions:
    total: int
    counts: dict[str, int]

    def share(self, decision: str) -> float | None:
        return self.counts.get(decision, 0) / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "counts": dict(self.counts),
                "shares": {d: self.share(d) for d in DECISIONS}}


@dataclass(frozen=True)
class Satisfaction:
    count: int
    mean: float | None
    satisfied: int  # 4-5
    dissatisfied: int  # 1-2

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.count if self.count else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "satisfied_share": self.satisfied_share}


@dataclass(frozen=True)
class Disliked:
    entry_id: int
    title: str
    category: str | None
    dislikes: int
    ratings: int
    reasons: dict[str, int] = field(default_factory=dict)  # the reasons residents gave (0011)

    @property
    def reasons_text(self) -> str:
        return "、".join(f"{_REASONS.get(k, k)} {n}" for k, n in self.reasons.items())


@dataclass(frozen=True)
class CategoryFigures:
    category: str
    questions: int
    answered: int
    suggested: int
    escalated: int  # to a lawyer, emergencies included

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.questions if self.questions else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "answer_rate": self.answer_rate}


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    messages: int
    days: tuple[Day, ...]
    decisions: Decisions
    answers: Satisfaction  # residents' ratings of automatic answers
    lawyers: Satisfaction  # residents' ratings of lawyers' replies
    disliked: tuple[Disliked, ...]
    categories: tuple[CategoryFigures, ...]  # most questions first
    queue: queue_report.Report
    computed_at: datetime = field(default_factory=utcnow)

    @property
    def top_categories(self) -> tuple[CategoryFigures, ...]:
        return tuple(c for c in self.categories if c.questions)[:8]

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON (``fazhi report --json``): the lawyer queue's report keys
        (``from``, ``to``, ``overall``, ``lawyers``) and the dashboard's; no resident text."""
        return {
            **self.queue.to_dict(),
            "first_day": self.scope.first.isoformat(), "last_day": self.scope.last.isoformat(),
            "category": self.scope.category, "region": self.scope.region,
            "messages": {"total": self.messages, "questions": self.decisions.total,
                         "per_day": [{"day": d.day.isoformat(), "messages": d.messages,
                                      **{k: d.decisions.get(k, 0) for k in DECISIONS}}
                                     for d in self.days]},
            "decisions": self.decisions.to_dict(),
            "satisfaction": {"answers": self.answers.to_dict(), "lawyers": self.lawyers.to_dict()},
            "dislikes": [asdict(d) for d in self.disliked],
            "categories": [c.to_dict() for c in self.categories],
        }


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: float | None
    kind: str  # "count", "share", "duration" (seconds) or "score" (a 1-5 mean)
    note: str = ""


def key_figures(d: Dashboard) -> list[KeyFigure]:
    """The headline figures, in the order the dashboard, the XLSX and the printout show them."""
    q, st = d.decisions, d.queue.overall
    lawyer_cases = q.counts.get(Decision.ESCALATE, 0) + q.counts.get(Decision.EMERGENCY, 0)
    return [
        KeyFigure("居民消息", d.messages, "count"),
        KeyFigure("咨询问题", q.total, "count"),
        KeyFigure("直接解答率", q.share(Decision.ANSWER), "share"),
        KeyFigure("推荐相关问题", q.share(Decision.SUGGEST), "share"),
        KeyFigure("转律师（含紧急）", lawyer_cases / q.total if q.total else None, "share"),
        KeyFigure("紧急求助", q.counts.get(Decision.EMERGENCY, 0), "count"),
        KeyFigure("自动解答满意率", d.answers.satisfied_share, "share", f"{d.answers.count} 人评价"),
        KeyFigure("律师答复满意率", d.lawyers.satisfied_share, "share", f"{d.lawyers.count} 人评价"),
        KeyFigure("律师咨询单", st.tickets, "count"),
        KeyFigure("律师答复率", st.response_rate, "share"),
        KeyFigure("首次答复用时（中位数）", st.median_first_response_s, "duration"),
        KeyFigure("首次答复用时（P90）", st.p90_first_response_s, "duration"),
        KeyFigure("办结用时（中位数）", st.median_close_s, "duration", f"已办结 {st.closed} 件"),
        KeyFigure("超时", st.overdue, "count"),
    ]


# -- queries -----------------------------------------------------------------------------
def residents_in(region: str) -> Any:
    """The residents who said they are in ``region`` (on one of their tickets)."""
    return select(Ticket.openid).where(queue_report.in_region(region)).distinct()


def _message_filters(scope: Scope) -> list[ColumnElement[bool]]:
    start, end = scope.bounds
    where = [inbound.c.received_at >= start, inbound.c.received_at < end,
             inbound.c.msg_type != "event"]
    if scope.category:
        where += [inbound.c.category == scope.category, inbound.c.decision.in_(DECISIONS),
                  inbound.c.decision != Decision.DECLINE]
    if scope.region:
        where.append(inbound.c.openid.in_(residents_in(scope.region)))
    return where


def _local_day(value: datetime) -> date:
    return as_utc(value).astimezone(CHINA_TZ).date()


def _messages(s: Session, scope: Scope) -> tuple[int, list[Day], Decisions, list[CategoryFigures]]:
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    rows = s.execute(select(inbound.c.received_at, inbound.c.decision, inbound.c.category)
                     .where(*_message_filters(scope)))
    for received_at, decision, category in rows:
        total += 1
        day = per_day[_local_day(received_at)]
        day["messages"] += 1
        if decision in DECISIONS:
            day[decision] += 1
            if decision != Decision.DECLINE:
                by_category[category or UNCATEGORISED][decision] += 1
    days = [Day(d, per_day[d]["messages"], {k: per_day[d][k] for k in DECISIONS})
            for d in scope.days]
    counts = {k: sum(d.decisions[k] for d in days) for k in DECISIONS}
    categories = [CategoryFigures(
        c, sum(n.values()), n[Decision.ANSWER], n[Decision.SUGGEST],
        n[Decision.ESCALATE] + n[Decision.EMERGENCY]) for c, n in by_category.items()]
    categories.sort(key=lambda c: (-c.questions, c.category == UNCATEGORISED, c.category))
    return total, days, Decisions(sum(counts.values()), counts), categories


def _rating_filters(scope: Scope) -> list[ColumnElement[bool]]:
    start, end = scope.bounds
    where = [Rating.created_at >= start, Rating.created_at < end]
    if scope.category:
        where.append(Rating.entry_id.in_(select(Entry.id).where(Entry.category == scope.category)))
    if scope.region:
        where.append(Rating.openid.in_(residents_in(scope.region)))
    return where


def _satisfaction(scores: list[int]) -> Satisfaction:
    return Satisfaction(len(scores), sum(scores) / len(scores) if scores else None,
                        sum(x >= queue_report.SATISFIED_AT for x in scores),
                        sum(x <= queue_report.DISSATISFIED_AT for x in scores))


def _disliked(s: Session, scope: Scope) -> list[Disliked]:
    disliked = func.sum(case((Rating.score <= queue_report.DISSATISFIED_AT, 1), else_=0))
    rows = s.execute(select(Rating.entry_id, disliked, func.count())
                     .where(*_rating_filters(scope), Rating.entry_id.is_not(None))
                     .group_by(Rating.entry_id)
                     .having(disliked > 0)
                     .order_by(disliked.desc(), Rating.entry_id)
                     .limit(TOP_DISLIKED)).all()
    titles: dict[int, tuple[str, str | None]] = {i: (t, c) for i, t, c in s.execute(
        select(Entry.id, Entry.title, Entry.category).where(Entry.id.in_([r[0] for r in rows])))}
    reasons: dict[int, dict[str, int]] = defaultdict(dict)
    for entry_id, reason, n in s.execute(
            select(Rating.entry_id, Rating.reason, func.count())
            .where(*_rating_filters(scope), Rating.entry_id.in_([r[0] for r in rows]),
                   Rating.score <= queue_report.DISSATISFIED_AT, Rating.reason.is_not(None))
            .group_by(Rating.entry_id, Rating.reason).order_by(func.count().desc(), Rating.reason)):
        reasons[int(entry_id or 0)][str(reason)] = int(n)
    found = []
    for entry_id, n_bad, n in rows:
        title, category = titles.get(entry_id, (f"（已删除的条目 #{entry_id}）", None))
        found.append(Disliked(int(entry_id), title, category, int(n_bad), int(n), reasons[entry_id]))
    return found


def dashboard(s: Session, scope: Scope, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    start, end = scope.bounds
    messages, days, decisions, categories = _messages(s, scope)
    scores = list(s.scalars(select(Rating.score).where(*_rating_filters(scope))))
    queue = queue_report.report(s, start, end, queue_report.lawyer_names(s), now,
                                category=scope.category, region=scope.region)
    ticket_scores = [t.rating for t in queue_report.tickets_in(
        s, start, end, category=scope.category, region=scope.region) if t.rating is not None]
    return Dashboard(scope, messages, tuple(days), decisions, _satisfaction(scores),
                     _satisfaction(ticket_scores), tuple(_disliked(s, scope)), tuple(categories),
                     queue, now)


def known_regions(s: Session, limit: int = 200) -> list[str]:
    """Regions to offer in the filter: the ones lawyers serve."""
    found: set[str] = set()
    for regions in s.scalars(select(User.regions)):
        found.update(r for r in regions or () if r)
    return sorted(found)[:limit]


def disliked_examples(s: Session, scope: Scope, entry_ids: list[int], per_entry: int = 2) -> dict[int, list[str]]:
    """For each disliked entry, what residents had asked before they rated its answer
    badly (the newest first; numbers masked; nothing once the text has been purged).
    Shown beside the figures for the admins, never in an export."""
    found: dict[int, list[str]] = {}
    for entry_id in entry_ids:
        found[entry_id] = examples = []
        ratings = s.execute(select(Rating.openid, Rating.created_at, Rating.question_inbound_id)
                            .where(*_rating_filters(scope), Rating.entry_id == entry_id,
                                   Rating.score <= queue_report.DISSATISFIED_AT)
                            .order_by(Rating.id.desc()).limit(3 * per_entry)).all()
        for openid, rated_at, question_id in ratings:
            # The message the rated answer was for (recorded since 0011), else the resident's
            # latest question before the rating.
            where = [inbound.c.id == question_id] if question_id else [
                inbound.c.openid == openid, inbound.c.received_at <= rated_at,
                inbound.c.decision.in_((Decision.ANSWER, Decision.SUGGEST))]
            asked = s.scalars(select(inbound.c.content).where(and_(*where, inbound.c.content != ""))
                              .order_by(inbound.c.id.desc()).limit(3)).all()
            # A picked suggestion ("2") is not the question: the message before it is.
            question = next((q for q in asked if not q.strip().isdigit()), None)
            if question and (text := mask_numbers(question)[:80]) not in examples:
                examples.append(text)
            if len(examples) >= per_entry:
                break
    return found


class Statistics:
    """What the console and the command line call: each figure set in one read session."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def dashboard(self, scope: Scope, now: datetime | None = None) -> Dashboard:
        with self._sessions() as s:
            return dashboard(s, scope, now)

    def disliked_examples(self, scope: Scope, entry_ids: list[int]) -> dict[int, list[str]]:
        with self._sessions() as s:
            return disliked_examples(s, scope, entry_ids)

    def regions(self) -> list[str]:
        with self._sessions() as s:
            return known_regions(s)
