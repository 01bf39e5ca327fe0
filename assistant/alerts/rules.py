"""The early-warning rules: each reads the figures at an explicit ``now`` and returns what
holds now (a ``Finding`` per key); the monitor (``loop``) turns findings into episodes.

The channel owns the message log and the outbox, so it supplies their figures
(``ChannelLog``); without one the channel's rules are not evaluated.  No finding carries
what a resident wrote.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.alerts.models import Severity
from assistant.alerts.settings import AlertSettings
from assistant.dialogue.models import Rating
from assistant.outcome import Decision
from assistant.queue import roster
from assistant.queue.lifecycle import PENDING_STATES
from assistant.queue.models import Priority, Ticket
from assistant.queue.roster import Capacity
from knowledge.models import Entry


class RuleName(StrEnum):
    ESCALATION_SPIKE = "escalation_spike"
    EMERGENCY_SPIKE = "emergency_spike"
    NO_ANSWER_RISE = "no_answer_rise"
    ENTRY_DISLIKES = "entry_dislikes"
    DEADLINE_FORECAST = "deadline_forecast"
    EMERGENCY_UNSTAFFED = "emergency_unstaffed"
    OUTBOX_BACKLOG = "outbox_backlog"
    OUTBOX_FAILURES = "outbox_failures"


RULE_LABELS: dict[str, str] = {
    RuleName.ESCALATION_SPIKE: "转人工激增", RuleName.EMERGENCY_SPIKE: "紧急求助激增",
    RuleName.NO_ANSWER_RISE: "未解答率上升", RuleName.ENTRY_DISLIKES: "条目差评集中",
    RuleName.DEADLINE_FORECAST: "咨询单将超时", RuleName.EMERGENCY_UNSTAFFED: "紧急咨询无人值班",
    RuleName.OUTBOX_BACKLOG: "微信消息积压", RuleName.OUTBOX_FAILURES: "微信消息发送失败",
}
#: Decisions on legal questions (the no-answer rate's denominator).
LEGAL_DECISIONS = (Decision.ANSWER.value, Decision.SUGGEST.value, Decision.ESCALATE.value)
EXPLICIT_REQUEST = "explicit_request"  # "转人工": asked for a person, not unanswerable


class ChannelLog(Protocol):
    """The channel's figures the rules read (``api.wechat.signals`` supplies them)."""

    def decision_counts(self, s: Session, start: datetime,
                        end: datetime) -> Counter[tuple[str | None, str | None]]:
        """Inbound messages received in [start, end) by (decision, reason)."""
        ...

    def outbox_backlog(self, s: Session, older_than: datetime) -> int:
        """Messages still waiting to be sent that were queued before ``older_than``."""
        ...

    def outbox_failures(self, s: Session, since: datetime) -> tuple[int, int | None]:
        """Messages queued since ``since`` that failed, and the latest one's error code."""
        ...


@dataclass(frozen=True)
class Finding:
    """A rule's condition holds for ``key`` (one episode per rule and key)."""

    rule: str
    title: str
    detail: str
    key: str = ""
    severity: str = Severity.WARNING
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class RuleContext:
    session: Session
    now: datetime
    settings: AlertSettings
    channel: ChannelLog | None = None
    _capacity: tuple[Capacity, list[roster.TicketForecast]] | None = None

    def forecast(self) -> tuple[Capacity, list[roster.TicketForecast]]:
        """The queue forecast, computed once per evaluation."""
        if self._capacity is None:
            self._capacity = roster.forecast(self.session, self.now,
                                             self.settings.alert_forecast_handling_minutes)
        return self._capacity


Rule = Callable[[RuleContext], list[Finding]]


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


# -- escalations and emergencies above their usual rate -------------------------------------
def _same_hours(ctx: RuleContext, decision: str) -> tuple[int, float, int]:
    """(count in the window, mean count in the same hours of the previous days, days)."""
    channel, st = ctx.channel, ctx.settings
    assert channel is not None
    window = timedelta(minutes=st.alert_rate_window_minutes)
    days = max(0, st.alert_rate_baseline_days)
    counts = []
    for d in range(days + 1):  # today's window first
        end = ctx.now - timedelta(days=d)
        by = channel.decision_counts(ctx.session, end - window, end)
        counts.append(sum(n for (found, _reason), n in by.items() if found == decision))
    past = counts[1:]
    return counts[0], (sum(past) / len(past) if past else 0.0), days


def _spike(ctx: RuleContext, decision: str, minimum: int, rule: RuleName, what: str,
           severity: Severity) -> list[Finding]:
    if ctx.channel is None:
        return []
    st = ctx.settings
    current, usual, days = _same_hours(ctx, decision)
    if current < minimum or current < st.alert_rate_factor * usual:
        return []
    return [Finding(rule, f"{what}激增", (
        f"最近 {st.alert_rate_window_minutes} 分钟有 {current} 次{what}，"
        f"近 {days} 天同一时段平均 {_fmt(usual)} 次"
        f"（阈值：不少于 {minimum} 次，且达到平时的 {_fmt(st.alert_rate_factor)} 倍）。"),
        severity=severity, data={"count": current, "usual": round(usual, 2)})]


def escalation_spike(ctx: RuleContext) -> list[Finding]:
    return _spike(ctx, Decision.ESCALATE.value, ctx.settings.alert_escalation_min,
                  RuleName.ESCALATION_SPIKE, "转人工", Severity.WARNING)


def emergency_spike(ctx: RuleContext) -> list[Finding]:
    return _spike(ctx, Decision.EMERGENCY.value, ctx.settings.alert_emergency_min,
                  RuleName.EMERGENCY_SPIKE, "紧急求助", Severity.CRITICAL)


# -- a rising no-answer rate ------------------------------------------------------------------
def _no_answer(counts: Counter[tuple[str | None, str | None]]) -> tuple[int, int]:
    """(legal questions, those the assistant could not answer)."""
    asked = sum(n for (d, _r), n in counts.items() if d in LEGAL_DECISIONS)
    missed = sum(n for (d, r), n in counts.items()
                 if d == Decision.ESCALATE.value and r != EXPLICIT_REQUEST)
    return asked, missed


def no_answer_rise(ctx: RuleContext) -> list[Finding]:
    if ctx.channel is None:
        return []
    st = ctx.settings
    start = ctx.now - timedelta(minutes=st.alert_no_answer_window_minutes)
    asked, missed = _no_answer(ctx.channel.decision_counts(ctx.session, start, ctx.now))
    if asked < st.alert_no_answer_min_questions:
        return []
    rate = missed / asked
    before = start - timedelta(days=st.alert_rate_baseline_days)
    base_asked, base_missed = _no_answer(ctx.channel.decision_counts(ctx.session, before, start))
    if base_asked >= st.alert_no_answer_min_questions:
        usual = base_missed / base_asked
        limit = usual + st.alert_no_answer_rise
        compared = f"近 {st.alert_rate_baseline_days} 天为 {usual:.0%}"
    else:
        usual, limit = None, st.alert_no_answer_max_rate
        compared = "历史数据不足"
    if rate < limit:
        return []
    return [Finding(RuleName.NO_ANSWER_RISE, "未能解答的问题比例上升", (
        f"最近 {st.alert_no_answer_window_minutes} 分钟 {asked} 个法律问题中 {missed} 个"
        f"（{rate:.0%}）未能自动解答，{compared}（阈值 {limit:.0%}）。"
        "请到“未解答问题”查看并补充知识库。"),
        data={"asked": asked, "missed": missed, "rate": round(rate, 3),
              "usual": None if usual is None else round(usual, 3)})]


# -- an entry collecting dislikes --------------------------------------------------------------
def entry_dislikes(ctx: RuleContext) -> list[Finding]:
    st = ctx.settings
    since = ctx.now - timedelta(days=st.alert_dislike_days)
    rows = ctx.session.execute(
        select(Rating.entry_id, func.count(Rating.id))
        .where(Rating.entry_id.is_not(None), Rating.score <= 2, Rating.created_at >= since,
               Rating.created_at <= ctx.now)
        .group_by(Rating.entry_id)
        .having(func.count(Rating.id) >= st.alert_dislike_min)).all()
    disliked = sorted((int(entry_id), int(n)) for entry_id, n in rows if entry_id is not None)
    if not disliked:
        return []
    titles = {entry_id: title for entry_id, title in ctx.session.execute(
        select(Entry.id, Entry.title).where(Entry.id.in_([e for e, _ in disliked])))}
    return [Finding(RuleName.ENTRY_DISLIKES, f"条目收到较多差评：{titles.get(entry_id, f'#{entry_id}')}",
                    f"近 {st.alert_dislike_days} 天该条目的自动答复收到 {n} 个“不满意”"
                    f"（阈值 {st.alert_dislike_min} 个），请复核条目 #{entry_id} 的内容。",
                    key=str(entry_id), data={"entry_id": entry_id, "dislikes": n})
            for entry_id, n in disliked]


# -- tickets forecast to miss their deadline ---------------------------------------------------
def deadline_forecast(ctx: RuleContext) -> list[Finding]:
    cap, items = ctx.forecast()
    # Already overdue tickets are the overdue sweeper's; this warns before that.
    at_risk = [f for f in items if f.misses and f.deadline_at is not None
               and f.deadline_at > ctx.now]
    if len(at_risk) < ctx.settings.alert_forecast_min_tickets:
        return []
    minutes = cap.handling_minutes or ctx.settings.alert_forecast_handling_minutes
    basis = "实测" if cap.handling_minutes else "预设"
    nos = "、".join(f.ticket_no for f in at_risk[:10]) + ("等" if len(at_risk) > 10 else "")
    return [Finding(RuleName.DEADLINE_FORECAST, f"{len(at_risk)} 张咨询单预计将超时", (
        f"按当前 {cap.on_duty} 名值班律师、每单约 {_fmt(minutes)} 分钟（{basis}）的处理时间，"
        f"{len(at_risk)} 张咨询单预计无法在答复时限内首次答复：{nos}。请增派值班律师或改派。"),
        data={"tickets": [f.ticket_no for f in at_risk], "on_duty": cap.on_duty,
              "handling_minutes": round(minutes, 1)})]


# -- an emergency waiting with no lawyer on duty -----------------------------------------------
def emergency_unstaffed(ctx: RuleContext) -> list[Finding]:
    waiting = list(ctx.session.scalars(
        select(Ticket.ticket_no).where(Ticket.priority == Priority.EMERGENCY,
                                       Ticket.status.in_(PENDING_STATES),
                                       Ticket.first_response_at.is_(None))
        .order_by(Ticket.id)))
    if not waiting:
        return []
    cap, _ = ctx.forecast()
    if cap.on_duty > 0:
        return []
    nos = "、".join(n or "" for n in waiting[:10])
    return [Finding(RuleName.EMERGENCY_UNSTAFFED, "紧急咨询等待中，当前无律师值班", (
        f"{len(waiting)} 张紧急咨询单等待律师答复（{nos}），当前没有律师值班。"
        "请立即安排律师接单。"), severity=Severity.CRITICAL,
        data={"tickets": waiting})]


# -- the WeChat outbox -------------------------------------------------------------------------
def outbox_backlog(ctx: RuleContext) -> list[Finding]:
    if ctx.channel is None:
        return []
    st = ctx.settings
    waiting = ctx.channel.outbox_backlog(ctx.session,
                                         ctx.now - timedelta(seconds=st.alert_outbox_backlog_age_s))
    if waiting < st.alert_outbox_backlog:
        return []
    return [Finding(RuleName.OUTBOX_BACKLOG, "微信消息发送积压", (
        f"{waiting} 条回复等待发送已超过 {_fmt(st.alert_outbox_backlog_age_s)} 秒"
        f"（阈值 {st.alert_outbox_backlog} 条）。请检查公众号接口配置与网络。"),
        data={"waiting": waiting})]


def outbox_failures(ctx: RuleContext) -> list[Finding]:
    if ctx.channel is None:
        return []
    st = ctx.settings
    failed, errcode = ctx.channel.outbox_failures(
        ctx.session, ctx.now - timedelta(minutes=st.alert_outbox_window_minutes))
    if failed < st.alert_outbox_failures:
        return []
    code = f"，最近错误码 {errcode}" if errcode is not None else ""
    return [Finding(RuleName.OUTBOX_FAILURES, "微信消息发送失败", (
        f"最近 {st.alert_outbox_window_minutes} 分钟有 {failed} 条回复发送失败{code}"
        f"（阈值 {st.alert_outbox_failures} 条）。居民可能没有收到答复。"),
        data={"failed": failed, "errcode": errcode})]


RULES: dict[str, Rule] = {
    RuleName.ESCALATION_SPIKE: escalation_spike, RuleName.EMERGENCY_SPIKE: emergency_spike,
    RuleName.NO_ANSWER_RISE: no_answer_rise, RuleName.ENTRY_DISLIKES: entry_dislikes,
    RuleName.DEADLINE_FORECAST: deadline_forecast,
    RuleName.EMERGENCY_UNSTAFFED: emergency_unstaffed,
    RuleName.OUTBOX_BACKLOG: outbox_backlog, RuleName.OUTBOX_FAILURES: outbox_failures,
}
#: Rules that read the channel's log (not evaluated without a ``ChannelLog``).
CHANNEL_RULES = frozenset({RuleName.ESCALATION_SPIKE, RuleName.EMERGENCY_SPIKE,
                           RuleName.NO_ANSWER_RISE, RuleName.OUTBOX_BACKLOG,
                           RuleName.OUTBOX_FAILURES})


def thresholds(st: AlertSettings) -> list[tuple[str, str]]:
    """Each rule and its thresholds in words (shown on the alerts page)."""
    return [
        (RULE_LABELS[RuleName.ESCALATION_SPIKE],
         f"最近 {st.alert_rate_window_minutes} 分钟转人工不少于 {st.alert_escalation_min} 次，且达到近 "
         f"{st.alert_rate_baseline_days} 天同一时段平均的 {_fmt(st.alert_rate_factor)} 倍"),
        (RULE_LABELS[RuleName.EMERGENCY_SPIKE],
         f"最近 {st.alert_rate_window_minutes} 分钟紧急求助不少于 {st.alert_emergency_min} 次，且达到平时的 "
         f"{_fmt(st.alert_rate_factor)} 倍"),
        (RULE_LABELS[RuleName.NO_ANSWER_RISE],
         f"最近 {st.alert_no_answer_window_minutes} 分钟（至少 {st.alert_no_answer_min_questions} 个问题）"
         f"未解答比例比平时高 {st.alert_no_answer_rise:.0%}（无历史时超过 {st.alert_no_answer_max_rate:.0%}）"),
        (RULE_LABELS[RuleName.ENTRY_DISLIKES],
         f"同一条目 {st.alert_dislike_days} 天内收到不少于 {st.alert_dislike_min} 个“不满意”"),
        (RULE_LABELS[RuleName.DEADLINE_FORECAST],
         f"按值班律师人数和处理时间预测，不少于 {st.alert_forecast_min_tickets} 张咨询单将错过时限"),
        (RULE_LABELS[RuleName.EMERGENCY_UNSTAFFED], "有紧急咨询单等待答复，且当前没有律师值班"),
        (RULE_LABELS[RuleName.OUTBOX_BACKLOG],
         f"不少于 {st.alert_outbox_backlog} 条消息等待发送超过 {_fmt(st.alert_outbox_backlog_age_s)} 秒"),
        (RULE_LABELS[RuleName.OUTBOX_FAILURES],
         f"{st.alert_outbox_window_minutes} 分钟内不少于 {st.alert_outbox_failures} 条消息发送失败"),
    ]
