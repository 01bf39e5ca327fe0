"""Conversation state of one resident: what the next message means.

* after suggestions, "1"/"2"/"3" picks one (``Assistant.answer_entry``);
* after an answer, "5"/"1" (满意/不满意) is a rating recorded against the answering entry,
  with the question it answered; a dislike opens the entry's review task and offers one-tap
  reasons, and the next "1".."4" is stored as its reason (``assistant.learning.feedback``);
* after a lawyer's reply, "5"/"1" rates that reply: it is stored on the ticket (and so counts
  for the lawyer who owns it);
* "我的咨询" lists the resident's tickets with their status;
* anything else is a question, asked with the resident's recent questions as ``history`` so
  that a short follow-up ("那赔偿怎么算？") is rewritten with the last topic by the assistant;
* escalations open a ticket (the resident gets its number and an honest expected wait), or
  attach to the resident's open ticket.  Once a lawyer has answered, the ticket stays open:
  further messages are still answered by the assistant and attached for the lawyer to see,
  and a message that needs a person again (转人工, a question we cannot answer, an emergency)
  reopens the ticket for the same lawyer with a fresh deadline (首问负责制) rather than
  starting over with someone new.  A closed or expired ticket is not reopened by the
  resident: a new escalation opens a new ticket.

All reads and the assistant call come before any write, and the caller commits the session
together with the outbound messages: a crash leaves either everything or nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from assistant.dialogue import texts as T
from assistant.dialogue.models import Conversation, Rating, State
from assistant.durations import promise_text
from assistant.learning import feedback
from assistant.learning.models import FeedbackReason
from assistant.outcome import Decision, Outcome
from assistant.queue import intake, lifecycle
from assistant.queue.models import Direction, Ticket, TicketStatus
from assistant.queue.settings import QueuePolicy
from assistant.reply import WECHAT_MAX_BYTES, split_message
from knowledge.store import EntryNotFound
from knowledge.timeutil import CHINA_TZ, as_utc, utcnow

HISTORY_TTL = timedelta(minutes=30)  # a follow-up refers to a question asked recently
HISTORY_LEN = 3

_CHOICE = re.compile(r"^(?:第|选)?\s*([1-9１-９])\s*(?:个|项|条|号|\.|。|、)?$")
_RATING_DIGIT = re.compile(r"^([1-5１-５])\s*(?:分|星)?[。！!.]?$")
_RATING_WORDS = {"满意": 5, "很满意": 5, "非常满意": 5, "有帮助": 5, "不满意": 1, "没帮助": 1,
                 "没有帮助": 1}


class AssistantLike(Protocol):
    def respond(self, text: str, history: list[str] | None = None) -> Outcome: ...
    def answer_entry(self, entry_id: int) -> Outcome: ...


@dataclass
class DialogueReply:
    messages: list[str]
    kind: str  # answer / suggest / escalate / emergency / decline / rating / notice
    outcome: Outcome | None = None
    ticket_no: str | None = None
    entry_id: int | None = None
    notes: dict = field(default_factory=dict)


def _digit(ch: str) -> int:
    return int(ch.translate(str.maketrans("１２３４５６７８９", "123456789")))


def parse_choice(text: str) -> int | None:
    m = _CHOICE.match(text.strip())
    return _digit(m.group(1)) if m else None


def parse_rating(text: str) -> int | None:
    t = text.strip().rstrip("。！!.")
    if t in _RATING_WORDS:
        return _RATING_WORDS[t]
    m = _RATING_DIGIT.match(t)
    return _digit(m.group(1)) if m else None


def append_line(messages: list[str], line: str) -> list[str]:
    """Add ``line`` to the last message if it still fits WeChat's limit, else as a new one."""
    if not messages:
        return [line]
    joined = messages[-1] + "\n\n" + line
    if len(joined.encode("utf-8")) <= WECHAT_MAX_BYTES:
        return messages[:-1] + [joined]
    return messages + split_message(line)


def expect_ticket_rating(s: Session, openid: str, ticket_id: int) -> None:
    """A lawyer answered: the resident's next "5"/"1" rates that answer."""
    conv = Dialogue.state_of(s, openid)
    conv.state, conv.suggestions = State.AWAITING_TICKET_RATING, []
    conv.last_entry_id, conv.rating_ticket_id = None, ticket_id
    Dialogue._save(s, conv)


def wait_text(estimate: intake.WaitEstimate) -> str:
    if estimate.basis == "history":
        return T.WAIT_MEASURED.format(wait=promise_text(estimate.minutes),
                                      ahead=estimate.ahead)
    text = T.WAIT_NEXT if estimate.ahead == 0 else T.WAIT_COMMITMENT
    return text.format(wait=promise_text(estimate.deadline_minutes))


class Dialogue:
    def __init__(self, assistant: AssistantLike,
                 transcript: intake.TranscriptReader | None = None,
                 policy: QueuePolicy | None = None) -> None:
        self.assistant = assistant
        self.transcript = transcript  # earlier conversation attached to new tickets
        self.policy = policy or QueuePolicy()  # deadlines of new tickets

    # -- state ------------------------------------------------------------------
    @staticmethod
    def state_of(s: Session, openid: str) -> Conversation:
        """The resident's state; a new (not yet added) row when there is none."""
        conv = s.get(Conversation, openid)
        if conv is None:
            conv = Conversation(openid=openid, state=State.IDLE, suggestions=[], history=[],
                                subscribed=True, updated_at=utcnow())
        return conv

    @staticmethod
    def _save(s: Session, conv: Conversation) -> None:
        conv.updated_at = utcnow()
        s.add(conv)

    @staticmethod
    def _recent_history(conv: Conversation) -> list[str]:
        updated = as_utc(conv.updated_at)
        if not conv.history or updated is None or utcnow() - updated > HISTORY_TTL:
            return []
        return list(conv.history)[-HISTORY_LEN:]

    # -- entry points -----------------------------------------------------------
    def handle_text(self, s: Session, openid: str, text: str,
                    inbound_id: int | None = None) -> DialogueReply:
        text = text.strip()
        with s.no_autoflush:
            conv = self.state_of(s, openid)
            if not text:
                return DialogueReply([T.EMPTY_TEXT], "notice")
            if text.rstrip("?？。!！") in T.MY_TICKETS_WORDS:
                return self.my_tickets(s, openid)
            if conv.state == State.AWAITING_TICKET_RATING and conv.rating_ticket_id is not None:
                score = parse_rating(text)
                if score is not None:
                    return self._rate_ticket(s, conv, score)
            if conv.state == State.AWAITING_CHOICE and conv.suggestions:
                choice = parse_choice(text)
                if choice is not None:
                    return self._pick(s, conv, choice, inbound_id)
            if conv.state == State.AWAITING_RATING and conv.last_entry_id is not None:
                score = parse_rating(text)
                if score is not None:
                    return self._rate(s, conv, score, inbound_id)
            if conv.state == State.AWAITING_REASON:
                reason = feedback.parse_reason(text)
                if reason is not None:  # anything else is a new question, as usual
                    return self._give_reason(s, conv, reason)
            outcome = self.assistant.respond(text, history=self._recent_history(conv) or None)
            return self._apply(s, conv, text, outcome, inbound_id)

    def subscribe(self, s: Session, openid: str) -> DialogueReply:
        conv = self.state_of(s, openid)
        conv.subscribed, conv.unsubscribed_at = True, None
        conv.state, conv.suggestions, conv.rating_ticket_id = State.IDLE, [], None
        self._save(s, conv)
        return DialogueReply([T.WELCOME], "welcome")

    def unsubscribe(self, s: Session, openid: str) -> None:
        conv = self.state_of(s, openid)
        conv.subscribed, conv.unsubscribed_at = False, utcnow()
        conv.state, conv.suggestions = State.IDLE, []
        self._save(s, conv)

    def my_tickets(self, s: Session, openid: str) -> DialogueReply:
        views = intake.tickets_of(s, openid)
        if not views:
            return DialogueReply([T.NO_TICKETS], "notice")
        lines = [T.MY_TICKETS_HEAD]
        now = utcnow()
        for v in views:
            question = v.question if len(v.question) <= 30 else v.question[:30] + "…"
            line = f"· {v.ticket_no}（{T.TICKET_STATUS.get(v.status, v.status)}）{question}"
            if v.status in lifecycle.PENDING_STATES:
                # A queued ticket: the measured estimate when there is one; otherwise (and
                # once a lawyer works on it) the deadline the service committed to.
                when = v.deadline_at or now
                if v.claimed_by is None:
                    est = intake.expected_wait(s, self.policy, v.priority, v.category, now,
                                              before_id=v.id)
                    if est.basis == "history":
                        when = now + timedelta(minutes=est.minutes)
                local = when.astimezone(CHINA_TZ)
                line += T.TICKET_DUE.format(due=f"{local.month}月{local.day}日 {local:%H:%M}")
            elif v.rating is not None:
                line += T.TICKET_RATED.format(score=v.rating)
            lines.append(line)
        return DialogueReply(split_message("\n".join(lines)), "notice")

    # -- branches ---------------------------------------------------------------
    def _pick(self, s: Session, conv: Conversation, choice: int,
              inbound_id: int | None) -> DialogueReply:
        options = conv.suggestions
        if not 1 <= choice <= len(options):
            return DialogueReply([T.CHOICE_OUT_OF_RANGE.format(n=len(options))], "notice")
        picked = options[choice - 1]
        try:
            outcome = self.assistant.answer_entry(int(picked["id"]))
        except EntryNotFound:
            conv.state, conv.suggestions = State.IDLE, []
            self._save(s, conv)
            return DialogueReply([T.CHOICE_EXPIRED], "notice")
        # The picked title is the topic a follow-up will refer to.
        return self._apply(s, conv, str(picked.get("title", "")), outcome, inbound_id,
                           asked=False)

    def _rate(self, s: Session, conv: Conversation, score: int,
              inbound_id: int | None) -> DialogueReply:
        now = utcnow()
        s.add(Rating(openid=conv.openid, entry_id=conv.last_entry_id, score=score,
                     inbound_id=inbound_id, question_inbound_id=conv.question_inbound_id,
                     created_at=now))
        entry_id = conv.last_entry_id
        conv.state, conv.last_entry_id = State.IDLE, None  # one rating per answer
        if feedback.is_dislike(score) and entry_id is not None:
            feedback.record_dislike(s, entry_id, now)  # the entry's review task
            conv.state = State.AWAITING_REASON  # the next "1".."4" says why
        self._save(s, conv)
        text = T.RATING_THANKS_GOOD if score >= 4 else T.RATING_THANKS_BAD
        return DialogueReply([text], "rating", entry_id=entry_id, notes={"score": score})

    def _give_reason(self, s: Session, conv: Conversation, reason: FeedbackReason) -> DialogueReply:
        rating = feedback.give_reason(s, conv.openid, reason)
        conv.state = State.IDLE  # one reason per dislike
        self._save(s, conv)
        return DialogueReply([T.FEEDBACK_REASON_THANKS.format(reason=reason.label)], "feedback",
                             entry_id=rating.entry_id if rating else None,
                             notes={"reason": reason.value})

    def _rate_ticket(self, s: Session, conv: Conversation, score: int) -> DialogueReply:
        assert conv.rating_ticket_id is not None  # the state says which answer is rated
        ticket = lifecycle.rate(s, conv.rating_ticket_id, score)
        conv.state, conv.rating_ticket_id = State.IDLE, None  # one rating per lawyer answer
        self._save(s, conv)
        text = T.TICKET_RATING_THANKS_GOOD if score >= 4 else T.TICKET_RATING_THANKS_BAD
        intake.attach(s, ticket, Direction.IN, str(score))
        intake.attach(s, ticket, Direction.OUT, text)
        return DialogueReply([text], "ticket_rating", ticket_no=ticket.ticket_no,
                             notes={"score": score, "ticket_id": ticket.id})

    def _created_note(self, s: Session, ticket: Ticket) -> str:
        estimate = intake.expected_wait(s, self.policy, ticket.priority, ticket.category,
                                       before_id=ticket.id)
        return T.TICKET_CREATED.format(no=ticket.ticket_no) + wait_text(estimate)

    def _apply(self, s: Session, conv: Conversation, text: str, outcome: Outcome,
               inbound_id: int | None, asked: bool = True) -> DialogueReply:
        open_ticket = intake.open_ticket(s, conv.openid)
        decision = outcome.decision
        messages = list(outcome.messages)
        reply = DialogueReply(messages, decision.value, outcome=outcome)
        conv.state, conv.suggestions = State.IDLE, []
        conv.last_entry_id, conv.rating_ticket_id = None, None
        if asked:  # a picked choice keeps the question that offered the choices
            conv.question_inbound_id = inbound_id

        if decision is Decision.ANSWER:
            reply.messages = append_line(messages, T.RATING_PROMPT)
            reply.entry_id = outcome.answered_entry_id
            conv.state, conv.last_entry_id = State.AWAITING_RATING, outcome.answered_entry_id
        elif decision is Decision.SUGGEST:
            conv.state = State.AWAITING_CHOICE
            conv.suggestions = [{"id": c.id, "title": c.title} for c in outcome.suggestions]
        elif decision in (Decision.ESCALATE, Decision.EMERGENCY):
            emergency = decision is Decision.EMERGENCY
            if open_ticket is not None:
                intake.attach(s, open_ticket, Direction.IN, text, inbound_id, emergency=emergency,
                               policy=self.policy)
                if open_ticket.status == TicketStatus.ANSWERED:
                    # The lawyer's answer did not settle it: back to the same lawyer.
                    s.flush()
                    open_ticket = lifecycle.reopen(s, open_ticket.id, self.policy, None)
                    note = T.TICKET_REOPENED.format(no=open_ticket.ticket_no)
                else:
                    note = (T.TICKET_ALREADY_OPEN if outcome.reason == "explicit_request"
                            else T.TICKET_ATTACHED).format(no=open_ticket.ticket_no)
                    if open_ticket.claimed_by is None:  # still queued: how long now
                        note += wait_text(intake.expected_wait(
                            s, self.policy, open_ticket.priority, open_ticket.category,
                            before_id=open_ticket.id))
                reply.messages = append_line(messages, note) if emergency else [note]
                reply.ticket_no = open_ticket.ticket_no
            else:
                # "转人工" alone says nothing: the lawyer sees the question it refers to.
                recent = self._recent_history(conv)
                question = (f"{recent[-1]}（{text}）" if outcome.reason == "explicit_request"
                            and recent else text)
                ticket = intake.create_ticket(s, conv.openid, question, outcome, inbound_id,
                                               self.transcript, policy=self.policy)
                reply.messages = append_line(messages, self._created_note(s, ticket))
                reply.ticket_no = ticket.ticket_no
                open_ticket = None  # the reply is attached below through the new ticket
                for m in reply.messages:
                    intake.attach(s, ticket, Direction.OUT, m, inbound_id)

        # While a ticket is open every exchange travels with it.
        if open_ticket is not None:
            if decision not in (Decision.ESCALATE, Decision.EMERGENCY):
                intake.attach(s, open_ticket, Direction.IN, text, inbound_id)
            for m in reply.messages:
                intake.attach(s, open_ticket, Direction.OUT, m, inbound_id)
            reply.ticket_no = open_ticket.ticket_no

        # Remember real questions (not "转人工", not chit-chat) as the topic for follow-ups.
        if decision in (Decision.ANSWER, Decision.SUGGEST, Decision.EMERGENCY) or (
                decision is Decision.ESCALATE and outcome.reason != "explicit_request"):
            # The rewritten query keeps the topic when a follow-up is followed up again.
            topic = (outcome.normalized_query or text) if asked else text
            history = self._recent_history(conv) + [topic]
            conv.history = history[-HISTORY_LEN:]
            conv.last_topic = topic
        self._save(s, conv)
        return reply
