"""The async path, the outbox and the shared access token, against the simulated WeChat API."""
from __future__ import annotations

import time

import pytest

from api.wechat.access_token import AccessTokenManager, DbTokenStore, RedisTokenStore
from api.wechat.models import InboundMessage, OutboxMessage
from api.wechat.protocol.client import WeChatApi
from assistant.reply import WECHAT_MAX_BYTES
from knowledge.db import make_engine
from tests.conftest import LONG_FAQ_QUESTION, WX_APP_ID, WX_APP_SECRET, redis_or_skip
from tests.helpers import token_race, wait_until


def test_slow_answer_goes_async_through_custom_send(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0)  # no time for a passive reply
    d = env.sim.send_text("o_async", "公司拖欠工资怎么办")
    assert d.ok and d.reply is None and d.attempts[0].body == "success"
    [text] = env.sim.wait_for("o_async", 1)
    assert "工资" in text
    env.wait_outbox_settled()
    [row] = env.outbox("o_async")
    assert (row.channel, row.status, row.attempts) == ("custom", "sent", 1)


def test_long_answer_split_first_part_passive_rest_custom(wx_env):
    d = wx_env.sim.send_text("o_long", LONG_FAQ_QUESTION)
    assert d.reply is not None
    texts = wx_env.sim.wait_for("o_long", 3)
    assert len(texts) >= 3 and texts[0] == d.reply
    assert all(len(t.encode("utf-8")) <= WECHAT_MAX_BYTES for t in texts)
    rows = wx_env.outbox("o_long")
    assert [r.channel for r in rows] == ["passive"] + ["custom"] * (len(rows) - 1)
    assert [r.content for r in rows] == texts  # in order, nothing lost
    wx_env.wait_outbox_settled()


def test_outbox_retries_outage_with_backoff(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0)
    env.sim.state.inject("custom_send", http_status=503, count_=2)
    env.sim.state.inject("custom_send", errcode=-1)  # then "system busy" once
    env.sim.send_text("o_outage", "房东不退押金怎么办")
    [text] = env.sim.wait_for("o_outage", 1)
    assert "押金" in text
    env.wait_outbox_settled()
    [row] = env.outbox("o_outage")
    assert row.status == "sent" and row.attempts == 4


def test_outbox_gives_up_after_max_attempts_and_records_it(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0, wechat_outbox_max_attempts=2)
    env.sim.state.inject("custom_send", http_status=503, count_=10)
    env.sim.send_text("o_down", "房东不退押金怎么办")
    env.wait_outbox_settled()
    [row] = env.outbox("o_down")
    assert row.status == "failed" and row.attempts == 2 and "503" in row.last_error


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_out_of_window_or_quota_is_held_until_the_resident_writes(wx_env_factory, errcode):
    env = wx_env_factory(wechat_reply_budget_s=0.0)
    env.sim.state.inject("custom_send", errcode=errcode)
    env.sim.send_text("o_held", "房东不退押金怎么办")
    env.wait_outbox_settled()
    [row] = env.outbox("o_held")
    assert row.status == "held" and row.last_errcode == errcode
    assert env.sim.texts("o_held") == []
    env.sim.send_text("o_held", "公司拖欠工资怎么办")  # the resident writes again
    texts = env.sim.wait_for("o_held", 2)
    assert any("押金" in t for t in texts) and any("工资" in t for t in texts)
    env.wait_outbox_settled()
    assert {r.status for r in env.outbox("o_held")} == {"sent"}


def test_unsubscribed_resident_gets_45015_from_wechat_and_message_is_held(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0)
    env.sim.state.set_delay("custom_send", 0.5)
    env.sim.send_text("o_gone", "房东不退押金怎么办")
    env.sim.state.set_window("o_gone", False)  # the resident leaves before the send lands
    env.wait_outbox_settled()
    [row] = env.outbox("o_gone")
    assert (row.status, row.last_errcode) == ("held", 45015)  # WeChat's own rule, not injected
    env.sim.state.set_delay("custom_send", 0.0)
    env.sim.send_event("o_gone", "subscribe")  # back again: held message goes out
    texts = env.sim.wait_for("o_gone", 2)
    assert any("押金" in t for t in texts)


def test_expired_token_is_refreshed_and_message_resent(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0)
    env.sim.send_text("o_tok", "房东不退押金怎么办")
    env.sim.wait_for("o_tok", 1)
    env.sim.state.expire_tokens()  # WeChat now answers 42001 for the stored token
    time.sleep(1.05)
    env.sim.send_text("o_tok", "公司拖欠工资怎么办")
    texts = env.sim.wait_for("o_tok", 2)
    assert len(texts) == 2
    env.wait_outbox_settled()
    assert env.sim.state.calls["stable_token"] == 2


def test_invalidated_token_40001_recovers(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0)
    env.sim.send_text("o_tok2", "房东不退押金怎么办")
    env.sim.wait_for("o_tok2", 1)
    # Someone force-refreshed the stable token elsewhere: ours is now invalid (40001).
    env.sim.state.handle_api("stable_token", {}, {"appid": WX_APP_ID, "secret": WX_APP_SECRET,
                                                   "force_refresh": True})
    time.sleep(1.05)
    env.sim.send_text("o_tok2", "公司拖欠工资怎么办")
    assert len(env.sim.wait_for("o_tok2", 2)) == 2


def test_token_refresh_race_two_workers_refresh_once(wx_env):
    sim = wx_env.sim
    sim.state.set_delay("stable_token", 0.3)  # a slow WeChat widens the race window
    managers = []
    for _ in range(2):  # two "workers": separate engines, separate API clients
        engine = make_engine(wx_env.settings.storage.sqlalchemy_url)
        api = WeChatApi(sim.url, WX_APP_ID, WX_APP_SECRET)
        managers.append(AccessTokenManager(DbTokenStore(engine, WX_APP_ID), api))
    calls_before = sim.state.calls["stable_token"]
    tokens = token_race(managers)
    assert len(tokens) == 1
    assert sim.state.calls["stable_token"] - calls_before == 1
    assert sum(m.refreshes for m in managers) == 1


@pytest.mark.redis
def test_token_refresh_race_with_redis(wx_env):
    url = redis_or_skip()
    import redis

    redis.Redis.from_url(url).flushdb()
    sim = wx_env.sim
    sim.state.set_delay("stable_token", 0.3)
    managers = [AccessTokenManager(RedisTokenStore(url, WX_APP_ID),
                                   WeChatApi(sim.url, WX_APP_ID, WX_APP_SECRET))
                for _ in range(2)]
    calls_before = sim.state.calls["stable_token"]
    assert len(token_race(managers)) == 1
    assert sim.state.calls["stable_token"] - calls_before == 1
    # 42001 recovery through the shared store: invalidate, then exactly one refresh.
    old = managers[0].get()
    sim.state.expire_tokens()
    managers[0].invalidate(old)
    fresh = managers[1].get(avoid=old)
    assert fresh != old and managers[0].get() == fresh


def test_outbox_resumes_after_restart(wx_env_factory):
    env = wx_env_factory(wechat_reply_budget_s=0.0)
    env.sim.state.inject("custom_send", http_status=503, count_=1000)  # WeChat API is down
    env.sim.send_text("o_restart", "房东不退押金怎么办")
    wait_until(lambda: env.outbox("o_restart"), what="the answer in the outbox")
    env.server.stop()  # the worker goes away with the message unsent
    [row] = env.outbox("o_restart")
    assert row.status in ("pending", "sending")
    env.sim.state.faults.clear()  # WeChat is back
    env.restart()
    [text] = env.sim.wait_for("o_restart", 1)
    assert "押金" in text
    env.wait_outbox_settled()


def test_unanswered_inbound_is_recovered_after_a_crash(wx_env_factory):
    """A message stored but never answered (worker died) is answered after its lease."""
    env = wx_env_factory(wechat_recover_after_s=0.5)
    from sqlalchemy.orm import Session

    from knowledge.timeutil import utcnow

    with Session(env.engine) as s, s.begin():
        s.add(InboundMessage(dedupe_key="msg:crash1", openid="o_crash", msg_type="text",
                             content="房东不退押金怎么办", wx_create_time=int(time.time()),
                             status="processing", lease_until=utcnow(), received_at=utcnow()))
    env.sim.state.set_window("o_crash", True)
    [text] = env.sim.wait_for("o_crash", 1, timeout_s=15)
    assert "押金" in text
    assert env.count(InboundMessage, InboundMessage.status == "answered") == 1
    assert env.count(OutboxMessage, OutboxMessage.openid == "o_crash") == 1


def test_token_refreshed_before_expiry(wx_env):
    engine = make_engine(wx_env.settings.storage.sqlalchemy_url)
    store = DbTokenStore(engine, WX_APP_ID)
    manager = AccessTokenManager(store, WeChatApi(wx_env.sim.url, WX_APP_ID, WX_APP_SECRET),
                                 margin_s=300)
    # A token 100 s from expiry whose refresh time has come (margin 300 s).
    store.write("old_token_about_to_expire", time.time() + 100, time.time() - 1)
    fresh = manager.get()
    assert fresh != "old_token_about_to_expire" and manager.refreshes == 1
    assert manager.get() == fresh and manager.refreshes == 1  # cached after that


def test_refresh_time_rules():
    from api.wechat.access_token import refresh_time

    assert refresh_time(1000, 7200, 300) == 1000 + 7200 - 300
    # stable_token returned the same token with 100 s left: use it, look again within a minute
    assert refresh_time(1000, 100, 300) == 1060
    assert refresh_time(1000, 30, 300) == 1025
