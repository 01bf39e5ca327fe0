"""The channel on PostgreSQL: dedupe key, outbox and shared token work the same.

Uses the ``pg_url`` fixture of tests/conftest.py (a fresh database, dropped afterwards)."""
from __future__ import annotations

import pytest

from api.wechat.access_token import AccessTokenManager, DbTokenStore
from api.wechat.models import InboundMessage, OutboxMessage
from api.wechat.protocol.client import WeChatApi
from knowledge.db import make_engine
from tests.conftest import WX_APP_ID, WX_APP_SECRET
from tests.helpers import token_race  # the same race, on PostgreSQL row locks


@pytest.mark.postgres
def test_channel_on_postgres(pg_url, wx_env_factory):
    env = wx_env_factory(database_url=pg_url, wechat_reply_budget_s=0.0)
    d = env.sim.send_text("o_pg", "公司拖欠工资怎么办")
    assert d.ok
    [text] = env.sim.wait_for("o_pg", 1)
    assert "工资" in text
    fields = env.sim.message_fields("text", "o_pg", "房东不退押金怎么办", msg_id="777001")
    for _ in range(3):
        env.sim.deliver(fields, attempts=1)
    env.wait_outbox_settled()
    assert env.count(InboundMessage) == 2 and env.count(OutboxMessage) == 2
    # The largest MsgId and a CreateTime beyond 32 bits (2038 on) fit the columns.
    big = env.sim.message_fields("text", "o_pg_big", "你好", msg_id=str(2**64 - 1),
                                 CreateTime=str(2**31 + 1))
    assert env.sim.deliver(big, attempts=1).attempts[0].status == 200
    assert env.count(InboundMessage, InboundMessage.wx_create_time == 2**31 + 1) == 1


    env.sim.state.set_delay("stable_token", 0.3)
    engines = [make_engine(pg_url) for _ in range(2)]
    for e in engines:  # drop the token the app fetched, so the race has to refresh
        DbTokenStore(e, WX_APP_ID).invalidate(env.sim.state.stable or "")
    managers = [AccessTokenManager(DbTokenStore(e, WX_APP_ID),
                                   WeChatApi(env.sim.url, WX_APP_ID, WX_APP_SECRET))
                for e in engines]
    before = env.sim.state.calls["stable_token"]
    assert len(token_race(managers)) == 1
    assert env.sim.state.calls["stable_token"] - before == 1
    for e in engines:
        e.dispose()


@pytest.mark.postgres
def test_the_create_time_column_becomes_64_bit_with_its_rows(pg_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from knowledge.db import MIGRATIONS_DIR

    engine = make_engine(pg_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    for revision in ("0004_lawyer_queue", "head"):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            if revision != "head":
                conn.execute(text("INSERT INTO wx_inbound (dedupe_key, openid, msg_type, content, "
                                  "wx_create_time, status, received_at) VALUES ('msg:o:1', 'o', "
                                  "'text', 'hi', 1700000000, 'answered', now())"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE wx_inbound SET wx_create_time = :t"), {"t": 2**31 + 1})
        assert conn.scalar(text("SELECT wx_create_time FROM wx_inbound")) == 2**31 + 1
    engine.dispose()
