"""Helpers shared by several test modules (fixtures live in ``conftest.py``)."""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.settings import Settings
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


# -- the console over HTTP ---------------------------------------------------------------

PASSWORD = "lawyer-pass-2024"  # the console test accounts' password
XSS = "<script>alert(1)</script>"


def copy_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


@dataclass
class Console:
    app: object
    client: TestClient
    settings: Settings
    assistant: object

    @property
    def engine(self):
        return self.app.state.desk.engine

    def add(self, username: str, role: str = "lawyer", name: str | None = None,
            **kw) -> Staff:
        return self.app.state.accounts.add(username, PASSWORD, name or username, role, **kw)

    def browser(self, base_url: str = "http://testserver") -> TestClient:
        """Another browser (its own cookie jar) on the same running app."""
        return TestClient(self.app, base_url=base_url)

    def login(self, username: str, client: TestClient | None = None,
              password: str = PASSWORD) -> TestClient:
        client = client or self.browser()
        page = client.get("/login")
        r = client.post("/login", data={"username": username, "password": password,
                                        "csrf_token": csrf_of(page.text), "next": ""},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        return client

    def ticket(self, question: str, openid: str = "o_resident_0001", **fields) -> int:
        outcome = self.assistant.respond(question)
        with Session(self.engine) as s, s.begin():
            t = tickets.create_ticket(s, openid, question, outcome, None)
            for key, value in fields.items():
                setattr(t, key, value)
            s.flush()
            return t.id

    def row(self, ticket_id: int) -> Ticket:
        with Session(self.engine) as s:
            return s.get(Ticket, ticket_id)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def flash_of(html: str) -> str:
    match = re.search(r'class="flash flash-\w+"[^>]*>([^<]*)<', html)
    return match.group(1) if match else ""


def post(client: TestClient, path: str, page: str, **data) -> str:
    """Submit a form as the page would (with the CSRF token it carries), follow the redirect."""
    r = client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data})
    assert r.status_code == 200, r.text
    return r.text


def all_routes(routes, prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every API route, also inside included routers (FastAPI >= 0.13x
    keeps them as nested router objects instead of copying them into ``app.routes``)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found += [(m, prefix + route.path) for m in sorted(route.methods)]
        elif hasattr(route, "original_router"):
            found += all_routes(route.original_router.routes,
                                prefix + route.include_context.prefix)
    return found


def console_routes(app) -> list[tuple[str, str]]:
    found = [r for r in all_routes(app.routes) if r[1].startswith(("/lawyer", "/admin"))]
    # Cross-check with the routes FastAPI itself documents: none may be missed.
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert {r for r in documented if r[1].startswith(("/lawyer", "/admin"))} <= set(found)
    return found
