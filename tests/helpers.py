"""Helpers shared by several test modules (fixtures live in ``conftest.py``)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.wechat.access_token import AccessTokenManager
from assistant.outcome import Candidate, Decision, Outcome
from assistant.queue import intake as tickets
from assistant.queue import lifecycle as queue
from assistant.queue.desk import Desk
from assistant.queue.errors import AlreadyClaimed
from assistant.queue.models import Ticket
from assistant.queue.settings import QueuePolicy
from assistant.queue.staff import Staff
from knowledge.db import session_factory
from knowledge.timeutil import as_utc, utcnow


def outcome(category: str | None = "劳动争议", emergency: bool = False) -> Outcome:
    cands = [Candidate(id=1, external_id="faq-1", kind="faq", title="拖欠工资怎么办",
                       category=category, score=0.31)] if category else []
    return Outcome(Decision.EMERGENCY if emergency else Decision.ESCALATE, 0.2, ["已转交"],
                   candidates=cands, reason="low_confidence")


def new_ticket(engine: Engine, openid: str = "o_res", question: str = "公司拖欠工资怎么办",
               category: str | None = "劳动争议", emergency: bool = False,
               region: str | None = None, age: timedelta = timedelta(0),
               policy: QueuePolicy | None = None) -> int:
    """A ticket as an escalation creates it, ``age`` old."""
    with session_factory(engine).begin() as s:
        t = tickets.create_ticket(s, openid, question, outcome(category, emergency), None,
                                  policy=policy)
        t.region = region
        if age:
            t.created_at = t.updated_at = utcnow() - age
            t.deadline_at = as_utc(t.deadline_at) - age
        s.flush()
        return t.id


def status_of(engine: Engine, ticket_id: int) -> Ticket:
    with Session(engine) as s:
        return s.get(Ticket, ticket_id)


def act(engine: Engine, fn, *args, **kwargs):
    with session_factory(engine).begin() as s:
        return fn(s, *args, **kwargs)


def claim_race(engine: Engine, rounds: int, lawyers: int) -> None:
    """Real threads, released together on a barrier, all claiming the same ticket."""
    for _ in range(rounds):
        tid = new_ticket(engine)
        barrier = threading.Barrier(lawyers)
        results: dict[int, str] = {}

        def attempt(lawyer: int, tid: int, barrier: threading.Barrier, results: dict[int, str]) -> None:
            barrier.wait()
            try:
                act(engine, queue.claim, tid, lawyer)
                results[lawyer] = "won"
            except AlreadyClaimed:
                results[lawyer] = "lost"

        threads = [threading.Thread(target=attempt, args=(200 + i, tid, barrier, results))
                   for i in range(lawyers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        winners = [lawyer for lawyer, r in results.items() if r == "won"]
        assert len(results) == lawyers and len(winners) == 1, results
        assert status_of(engine, tid).claimed_by == winners[0]


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def wait_until(check: Callable[[], object], timeout_s: float = 30.0,
               what: str = "condition") -> None:
    """Wait for asynchronous work by its result, never for a fixed time: a busy machine is
    slower, not wrong."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s:.0f} s")
        time.sleep(0.05)


def last_reply(desk: Desk, ticket_id: int, staff: Staff):
    return [m for m in desk.ticket(ticket_id, staff).messages if m.direction == "lawyer"][-1]


def ticket_of(engine: Engine, openid: str) -> Ticket | None:
    with Session(engine) as s:
        return s.scalars(select(Ticket).where(Ticket.openid == openid)).one_or_none()


def the_ticket(engine: Engine, openid: str) -> Ticket:
    """The resident's ticket, once the channel has created it (it answers asynchronously)."""
    wait_until(lambda: ticket_of(engine, openid) is not None, what=f"a ticket for {openid}")
    ticket = ticket_of(engine, openid)
    assert ticket is not None
    return ticket


def token_race(managers: list[AccessTokenManager], per_manager: int = 4) -> set[str]:
    got: set[str] = set()
    barrier = threading.Barrier(len(managers) * per_manager)

    def worker(m: AccessTokenManager) -> None:
        barrier.wait()
        got.add(m.get())

    threads = [threading.Thread(target=worker, args=(m,)) for m in managers
               for _ in range(per_manager)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got
