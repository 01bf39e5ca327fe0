"""The login lockout under real parallel requests: real uvicorn on loopback, SQLite and
PostgreSQL, production argon2 parameters (slow enough that parallel guesses overlap)."""
from __future__ import annotations

import re
import threading

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.console.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from api.settings import Settings
from assistant.queue.staff import User
from tests.conftest import UvicornThread, _free_port

PASSWORD = "lawyer-pass-2024"
LIMIT = 5
BURST = 12


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request, tmp_path, wx_assistant):
    values = {"data_dir": tmp_path / "data", "embed_model": "hashing",
              "wechat_token": "lockout-test", "login_max_failures": LIMIT}
    if request.param == "postgres":
        values["database_url"] = request.getfixturevalue("pg_url")
    app = create_app(Settings(**values), assistant=wx_assistant)
    server = UvicornThread(app, _free_port()).start()
    app.state.accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    yield app, f"http://127.0.0.1:{server.port}"
    server.stop()


def login_attempt(base_url: str, password: str, start: threading.Barrier | None = None) -> int:
    """One browser: open the login page, then (together with the others) submit it."""
    with httpx.Client(base_url=base_url, timeout=120) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert client.cookies.get(LOGIN_CSRF_COOKIE) == token
        if start is not None:
            start.wait(60)
        resp = client.post("/login", data={"username": "zhang", "password": password,
                                           "csrf_token": token})
        if resp.status_code == 303:
            assert SESSION_COOKIE in resp.cookies
        return resp.status_code


def test_a_burst_of_wrong_passwords_checks_at_most_the_limit_and_then_locks(served):
    app, base_url = served
    start = threading.Barrier(BURST)
    codes: list[int] = []
    threads = [threading.Thread(target=lambda n=i: codes.append(
        login_attempt(base_url, f"guess{n}", start))) for i in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert len(codes) == BURST and set(codes) <= {401, 429}, codes
    # 401: a guess that was checked and wrong; the LIMIT-th checked guess answers 429 (it
    # locked the account), and so does every guess refused unchecked.
    assert codes.count(401) == LIMIT - 1, codes
    with Session(app.state.desk.engine) as s:
        user = s.scalar(select(User).where(User.username == "zhang"))
        assert user.failed_logins == LIMIT and user.locked_until is not None
    assert login_attempt(base_url, PASSWORD) == 429  # locked, even for the right password
