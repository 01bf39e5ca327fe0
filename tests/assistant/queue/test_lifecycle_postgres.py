"""The lawyer queue on a real PostgreSQL server: the atomic claim under concurrent lawyers,
concurrent overdue sweepers, the migration of old tickets, and the desk end to end."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.settings import Settings
from api.wechat.models import OutboxMessage
from api.wechat.outbox import OutboxDelivery
from assistant.queue.desk import Desk
from assistant.queue.lifecycle import is_overdue
from assistant.queue.models import Ticket, TicketStatus
from assistant.queue.staff import Accounts
from assistant.queue.sweep import OverdueSweeper
from knowledge.db import make_engine, migrate
from knowledge.timeutil import as_utc, utcnow
from tests.helpers import FAST_HASHER, claim_race, last_reply, new_ticket, the_ticket, wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_url: str):
    engine = make_engine(pg_url)
    migrate(engine)
    yield engine
    engine.dispose()


def test_two_lawyers_claiming_at_once_exactly_one_wins_on_postgres(pg):
    claim_race(pg, rounds=12, lawyers=4)


def test_concurrent_sweepers_alert_each_overdue_ticket_once(pg, tmp_path):
    late = {new_ticket(pg, f"o_late{i}", age=timedelta(hours=25)) for i in range(6)}
    settings = Settings(data_dir=tmp_path, embed_model="hashing")
    sweepers = [OverdueSweeper(pg, settings.queue) for _ in range(3)]  # three worker processes
    barrier = threading.Barrier(len(sweepers))
    found: list[list[int]] = []

    def sweep(sweeper: OverdueSweeper) -> None:
        barrier.wait()
        found.append(sweeper.sweep_once())

    threads = [threading.Thread(target=sweep, args=(sw,)) for sw in sweepers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    for sw in sweepers:
        sw.stop()
    alerted = [i for ids in found for i in ids]
    assert sorted(alerted) == sorted(late)  # every one, none twice
    with pg.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'overdue'")) == 6


def test_open_tickets_from_before_the_queue_become_waiting_on_postgres(pg_url: str):
    from alembic import command
    from alembic.config import Config

    from knowledge.db import MIGRATIONS_DIR

    engine = make_engine(pg_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))

    def upgrade(revision: str) -> None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    upgrade("0003_accounts")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO wx_tickets (ticket_no, openid, status, priority, reason, question,"
            " candidates, created_at, updated_at) VALUES ('FZ1', 'o_old', 'open', 'normal', '',"
            " '问题', '[]', :at, :at)"), {"at": utcnow() - timedelta(hours=25)})
    upgrade("head")
    with Session(engine) as s:
        t = s.scalars(select(Ticket)).one()
        assert t.status == TicketStatus.WAITING and is_overdue(t)
        assert as_utc(t.deadline_at) - as_utc(t.created_at) == timedelta(hours=24)
    engine.dispose()


def test_the_desk_on_postgres(pg, tmp_path):
    settings = Settings(data_dir=tmp_path, embed_model="hashing")
    accounts = Accounts(pg, hasher=FAST_HASHER)
    zhang = accounts.add("zhang", "password-1", "张律师", "lawyer", ["劳动争议"])
    admin = accounts.add("admin", "password-2", "管理员", "admin")
    desk = Desk(pg, settings.queue, OutboxDelivery())
    late = new_ticket(pg, "o_pg1", age=timedelta(hours=25))
    fresh = new_ticket(pg, "o_pg2", category="婚姻家庭")
    assert [r.id for r in desk.queue(zhang)] == [late, fresh]
    assert [r.id for r in desk.queue(zhang, overdue=True)] == [late]
    before = desk.revision()
    desk.claim(late, zhang)
    view = desk.reply(late, zhang, "您好，答复如下。")
    assert desk.revision() != before
    with Session(pg) as s:
        [row] = s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_message_id == view.id))
        assert row.openid == "o_pg1" and row.status == "pending"
    desk.reassign(fresh, admin, zhang.id, "分给张律师")
    assert [r.id for r in desk.queue(zhang, scope="mine")] == [fresh, late]
    page = desk.ticket(late, zhang)
    assert [a.action for a in page.audit] == ["claim", "reply"]
    stats = desk.stats(zhang.id, utcnow() - timedelta(days=2), utcnow() + timedelta(minutes=1))
    assert (stats.tickets, stats.responded, stats.overdue) == (2, 1, 1)


def test_a_lawyer_reply_reaches_wechat_with_postgres_behind_the_service(wx_env_factory, pg_url):
    env = wx_env_factory(database_url=pg_url)
    desk: Desk = env.server.server.config.app.state.desk
    lawyer = Accounts(env.engine, hasher=FAST_HASHER).add("zhao", "password-9", "赵律师",
                                                          "lawyer")
    env.sim.send_text("o_pg_e2e", "转人工")
    tid = the_ticket(env.engine, "o_pg_e2e").id
    desk.claim(tid, lawyer)
    desk.reply(tid, lawyer, "您好，我是赵律师，请补充劳动合同的情况。")
    assert env.sim.wait_for("o_pg_e2e", 2)[-1].startswith("【律师回复")
    wait_until(lambda: last_reply(desk, tid, lawyer).delivery == "sent")
    assert env.sim.send_text("o_pg_e2e", "5").reply.startswith("感谢您的评价")
    assert the_ticket(env.engine, "o_pg_e2e").rating == 5
