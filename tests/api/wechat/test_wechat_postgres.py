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
