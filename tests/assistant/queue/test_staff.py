"""Staff accounts: argon2 hashes, lockout, disabling, and ``fazhi user`` end to end."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import Settings
from assistant.queue.staff import (
    AccountLocked,
    Accounts,
    InvalidAccount,
    InvalidCredentials,
    User,
    UserExists,
    UserNotFound,
    accounts_from_settings,
)
from knowledge.db import make_engine, migrate
from knowledge.timeutil import utcnow
from tests.helpers import wait_until

# Cheaper argon2 parameters keep the suite fast; the algorithm and code path are the same.
FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "correct horse 9"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    eng = make_engine(url)
    migrate(eng)
    yield eng
    eng.dispose()


def make_accounts(engine, **kw) -> Accounts:
    return Accounts(engine, hasher=FAST, **kw)


def stored_hash(engine, username: str) -> str:
    with Session(engine) as s:
        return s.scalar(select(User.password_hash).where(User.username == username))


class GatedHasher(PasswordHasher):
    """argon2 (cheap parameters) whose checks of wrong passwords wait at a gate, so that a
    test can hold guesses in flight together, as parallel requests would be."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.gate = threading.Event()
        self.checked: list[str] = []

    def verify(self, hash, password):  # argon2's signature
        self.checked.append(password)
        if password != PASSWORD:
            self.gate.wait(60)
        return super().verify(hash, password)


def test_a_password_is_stored_only_as_an_argon2id_hash(engine):
    accounts = Accounts(engine)  # the production parameters
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    digest = stored_hash(engine, "zhang")
    assert digest.startswith("$argon2id$") and PASSWORD not in digest
    assert accounts.authenticate("zhang", PASSWORD).username == "zhang"


def test_add_returns_the_staff_member_with_routing_attributes(engine):
    accounts = make_accounts(engine)
    staff = accounts.add("zhang", PASSWORD, "张律师", "lawyer", categories=["劳动争议", "工伤", "工伤"],
                         regions=[" 海淀区 ", ""])
    assert staff.categories == ("劳动争议", "工伤") and staff.regions == ("海淀区",)
    assert staff.role == "lawyer" and staff.active and not staff.is_admin
    assert accounts.get(staff.id) == staff
    assert accounts.by_username("zhang") == staff


def test_the_right_password_signs_in_and_a_wrong_one_does_not(engine):
    accounts = make_accounts(engine)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    assert accounts.authenticate("zhang", PASSWORD).display_name == "张律师"
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("zhang", PASSWORD + "x")


def test_an_unknown_user_gets_the_same_answer_and_costs_the_same_work(engine):
    hasher = GatedHasher()
    hasher.gate.set()
    accounts = Accounts(engine, hasher=hasher)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")

    def attempt(username: str) -> tuple[str, list[str]]:
        hasher.checked.clear()
        with pytest.raises(InvalidCredentials) as info:
            accounts.authenticate(username, "wrong password")
        return str(info.value), list(hasher.checked)

    # Both verify one argon2 hash with the same parameters: an unknown name must not answer
    # in a fraction of the time (counted, not timed: a busy machine's clock says little).
    assert attempt("zhang") == attempt("nobody") == ("用户名或密码错误", ["wrong password"])


def test_repeated_failures_lock_the_account_even_for_the_right_password(engine):
    accounts = make_accounts(engine, max_failures=3, lockout=timedelta(minutes=15))
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            accounts.authenticate("zhang", "guess")
    with pytest.raises(AccountLocked) as info:
        accounts.authenticate("zhang", "guess")
    assert timedelta(minutes=14) < info.value.until - utcnow() <= timedelta(minutes=15)
    assert "锁定" in str(info.value)
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", PASSWORD)


def test_a_lock_expires_and_a_success_resets_the_count(engine):
    accounts = make_accounts(engine, max_failures=2, lockout=timedelta(seconds=1))
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("zhang", "guess")
    accounts.authenticate("zhang", PASSWORD)  # resets the count: one more miss is allowed
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("zhang", "guess")
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", "guess")
    time.sleep(1.1)
    assert accounts.authenticate("zhang", PASSWORD).username == "zhang"


def _wrong_guesses(accounts: Accounts, n: int) -> tuple[list[threading.Thread], list[str]]:
    """``n`` wrong passwords for zhang, each in its own started thread, and the list their
    refusals (exception names) are collected in."""
    outcomes: list[str] = []

    def guess() -> None:
        try:
            accounts.authenticate("zhang", "guess")
        except (InvalidCredentials, AccountLocked) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    return threads, outcomes


def test_parallel_guesses_all_count_towards_the_lock(engine):
    accounts = make_accounts(engine, max_failures=4)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    threads, outcomes = _wrong_guesses(accounts, 4)
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["AccountLocked"] + ["InvalidCredentials"] * 3
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", PASSWORD)


def test_at_most_max_failures_guesses_are_checked_however_many_arrive_at_once(engine):
    hasher = GatedHasher()
    accounts = Accounts(engine, max_failures=3, hasher=hasher)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    threads, outcomes = _wrong_guesses(accounts, 3)
    wait_until(lambda: len(hasher.checked) == 3, what="three wrong guesses being checked")
    # The limit is spent by the guesses in flight: neither a fourth guess nor the right
    # password (sent in the same burst) is checked at all.
    [fourth], fourth_outcome = _wrong_guesses(accounts, 1)
    fourth.join()
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", PASSWORD)
    assert len(hasher.checked) == 3
    hasher.gate.set()
    for t in threads:
        t.join()
    assert sorted(outcomes + fourth_outcome) == ["AccountLocked"] * 2 + ["InvalidCredentials"] * 2
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", PASSWORD)
    assert len(hasher.checked) == 3


def test_a_disabled_account_gets_the_same_answer_as_a_wrong_password(engine):
    accounts = make_accounts(engine)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    assert accounts.disable("zhang").active is False
    with pytest.raises(InvalidCredentials) as right:  # no oracle for the password
        accounts.authenticate("zhang", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        accounts.authenticate("zhang", "guess")
    assert str(right.value) == str(wrong.value) == "用户名或密码错误"
    accounts.enable("zhang")
    assert accounts.authenticate("zhang", PASSWORD).active


def test_unlock_lifts_a_lockout_at_once(engine):
    accounts = make_accounts(engine, max_failures=2)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    for _ in range(2):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            accounts.authenticate("zhang", "guess")
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", PASSWORD)
    assert accounts.unlock("zhang").username == "zhang"
    assert accounts.authenticate("zhang", PASSWORD).username == "zhang"
    with pytest.raises(UserNotFound):
        accounts.unlock("nobody")


def test_lawyers_are_the_active_lawyer_accounts(engine):
    accounts = make_accounts(engine)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    accounts.add("li", PASSWORD, "李律师", "lawyer")
    accounts.add("boss", PASSWORD, "王主任", "admin")
    accounts.disable("li")
    assert [s.username for s in accounts.lawyers()] == ["zhang"]
    assert [s.username for s in accounts.list()] == ["zhang", "li", "boss"]


def test_user_names_are_unique(engine):
    accounts = make_accounts(engine)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    with pytest.raises(UserExists):
        accounts.add("zhang", PASSWORD, "另一个张律师", "admin")


@pytest.mark.parametrize("username, password, name, role, categories, expected", [
    ("zhang", "short", "张律师", "lawyer", (), "密码至少"),
    ("zhang", PASSWORD, "张律师", "judge", (), "未知角色"),
    ("zhang", PASSWORD, "", "lawyer", (), "显示名"),
    ("张三", PASSWORD, "张律师", "lawyer", (), "用户名"),
    ("zhang", PASSWORD, "张律师", "lawyer", ("劳动争议", "星际法"), "未知分类：星际法"),
])
def test_bad_account_data_is_refused_with_a_clear_message(engine, username, password, name, role,
                                                          categories, expected):
    with pytest.raises(InvalidAccount, match=expected):
        make_accounts(engine).add(username, password, name, role, categories)


def test_unknown_users_cannot_be_disabled_or_fetched(engine):
    accounts = make_accounts(engine)
    with pytest.raises(UserNotFound):
        accounts.disable("nobody")
    with pytest.raises(UserNotFound):
        accounts.get(42)


def test_a_changed_password_replaces_the_old_one_and_unlocks(engine):
    accounts = make_accounts(engine, max_failures=2)
    accounts.add("zhang", PASSWORD, "张律师", "lawyer")
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("zhang", "guess")
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", "guess")
    accounts.set_password("zhang", "a new password")
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("zhang", PASSWORD)
    assert accounts.authenticate("zhang", "a new password").username == "zhang"


def test_outdated_hash_parameters_are_upgraded_at_the_next_login(engine):
    make_accounts(engine).add("zhang", PASSWORD, "张律师", "lawyer")
    old = stored_hash(engine, "zhang")
    Accounts(engine).authenticate("zhang", PASSWORD)  # production parameters
    new = stored_hash(engine, "zhang")
    assert new != old and PasswordHasher().verify(new, PASSWORD)


def test_lockout_limits_come_from_the_settings(tmp_path):
    settings = Settings(data_dir=tmp_path, login_max_failures=2, login_lockout_minutes=1)
    engine = make_engine(settings.storage.sqlalchemy_url)
    migrate(engine)
    accounts = accounts_from_settings(engine, settings.staff)
    assert accounts.max_failures == 2 and accounts.lockout == timedelta(minutes=1)
    engine.dispose()


# -- the command line ---------------------------------------------------------------

def fazhi(data_dir, *args, stdin=None):
    env = os.environ | {"FAZHI_DATA_DIR": str(data_dir), "FAZHI_EMBED_MODEL": "hashing"}
    # A new session has no controlling terminal: getpass then reads the piped stdin.
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, start_new_session=True)


def test_user_add_list_disable_end_to_end(tmp_path):
    out = fazhi(tmp_path, "user", "add", "zhang", "--role", "lawyer", "--name", "张律师",
                "--categories", "劳动争议,工伤", "--regions", "海淀区", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    assert "已创建律师账号：zhang（张律师）" in out.stdout
    out = fazhi(tmp_path, "user", "add", "boss", "--role", "admin", "--name", "王主任",
                "--password-stdin", stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr

    listed = fazhi(tmp_path, "user", "list")
    assert listed.returncode == 0
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0][1:] == ["zhang", "张律师", "律师", "启用", "劳动争议、工伤", "海淀区"]
    assert rows[1][1:5] == ["boss", "王主任", "管理员", "启用"]
    assert "共 2 个账号" in listed.stderr

    assert "已停用账号：zhang" in fazhi(tmp_path, "user", "disable", "zhang").stdout
    assert fazhi(tmp_path, "user", "list").stdout.splitlines()[0].split("\t")[4] == "停用"

    engine = make_engine(Settings(data_dir=tmp_path).storage.sqlalchemy_url)
    accounts = Accounts(engine)
    with pytest.raises(InvalidCredentials):  # disabled: the same answer as a wrong password
        accounts.authenticate("zhang", PASSWORD)
    assert accounts.authenticate("boss", PASSWORD).is_admin
    engine.dispose()


def test_user_unlock_clears_a_lockout_from_the_command_line(tmp_path):
    out = fazhi(tmp_path, "user", "add", "zhang", "--role", "lawyer", "--name", "张律师",
                "--password-stdin", stdin=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    engine = make_engine(Settings(data_dir=tmp_path).storage.sqlalchemy_url)
    accounts = Accounts(engine, max_failures=1)
    with pytest.raises(AccountLocked):
        accounts.authenticate("zhang", "guess")
    out = fazhi(tmp_path, "user", "unlock", "zhang")
    assert out.returncode == 0 and "已解除锁定：zhang（张律师）" in out.stdout, out.stderr
    assert accounts.authenticate("zhang", PASSWORD).username == "zhang"
    missing = fazhi(tmp_path, "user", "unlock", "nobody")
    assert missing.returncode == 2 and "没有这个用户：nobody" in missing.stderr
    engine.dispose()


def test_user_commands_report_errors_in_chinese(tmp_path):
    def add(*extra, stdin=PASSWORD + "\n"):
        return fazhi(tmp_path, "user", "add", "zhang", "--role", "lawyer", "--name", "张律师",
                     "--password-stdin", *extra, stdin=stdin)

    assert add().returncode == 0
    dup = add()
    assert dup.returncode == 2 and "用户名已存在：zhang" in dup.stderr
    short = fazhi(tmp_path, "user", "add", "li", "--role", "lawyer", "--name", "李律师",
                  "--password-stdin", stdin="123\n")
    assert short.returncode == 2 and "密码至少" in short.stderr
    missing = fazhi(tmp_path, "user", "disable", "nobody")
    assert missing.returncode == 2 and "没有这个用户：nobody" in missing.stderr


def test_a_password_is_never_accepted_on_the_command_line(tmp_path):
    out = fazhi(tmp_path, "user", "add", "zhang", "--role", "lawyer", "--name", "张律师",
                "--password", PASSWORD)
    assert out.returncode != 0 and "unrecognized arguments" in out.stderr


def test_without_password_stdin_the_password_is_asked_twice(tmp_path):
    args = ("user", "add", "zhang", "--role", "lawyer", "--name", "张律师")
    mismatch = fazhi(tmp_path, *args, stdin=f"{PASSWORD}\n{PASSWORD}x\n")
    assert mismatch.returncode == 2 and "两次输入的密码不一致" in mismatch.stderr
    assert fazhi(tmp_path, "user", "list").stdout == ""
    ok = fazhi(tmp_path, *args, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert ok.returncode == 0 and "已创建律师账号：zhang" in ok.stdout
    assert "密码" in ok.stderr and PASSWORD not in ok.stdout + ok.stderr  # prompted, not echoed
