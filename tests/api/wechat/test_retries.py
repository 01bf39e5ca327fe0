"""WeChat's retries: one answer per message, across attempts, threads and processes."""
from __future__ import annotations

import threading

import httpx
import pytest

from api.wechat.models import InboundMessage, OutboxMessage
from assistant.queue.models import Ticket
from tests.conftest import redis_or_skip
from tests.helpers import wait_until


def _post_same(env, fields, n: int) -> list[httpx.Response]:
    out = []
    for _ in range(n):
        query, body = env.sim.signed_request(fields)
        out.append(httpx.post(env.webhook_url, params=query, content=body,
                              headers={"Content-Type": "text/xml"}, timeout=10))
    return out


def test_retry_gets_the_same_reply_and_no_second_answer(wx_env):
    fields = wx_env.sim.message_fields("text", "o_retry", "公司拖欠工资怎么办", msg_id="900001")
    first, second, third = _post_same(wx_env, fields, 3)
    assert first.status_code == second.status_code == third.status_code == 200
    assert "工资" in first.text
    for retry in (second, third):
        reply = wx_env.sim.read_reply(retry.text, "o_retry")
        assert reply == wx_env.sim.read_reply(first.text, "o_retry")
    assert wx_env.count(InboundMessage) == 1
    assert wx_env.count(OutboxMessage) == 1


def test_simulated_timeout_retries_are_deduplicated(wx_env_factory):
    # WeChat gives up after its timeout and sends the message again; here the timeout is
    # shorter than our answer time, so every attempt after the first is a real retry.
    env = wx_env_factory(callback_timeout_s=0.001)
    d = env.sim.send_text("o_slowpoke", "公司拖欠工资怎么办")
    assert len(d.attempts) == 3
    # The simulator gave up on every attempt before the service had even stored the message:
    # wait for it to be stored, then answered.
    wait_until(lambda: env.count(InboundMessage) >= 1, what="the message stored")
    env.wait_outbox_settled()
    assert env.count(InboundMessage) == 1
    assert env.count(OutboxMessage) == 1  # one answer, whatever the attempts saw


def test_concurrent_duplicates_answered_once_and_one_ticket(wx_env):
    fields = wx_env.sim.message_fields("text", "o_dupe_ticket", "转人工", msg_id="900777")
    results: list[httpx.Response] = []

    def post() -> None:
        results.extend(_post_same(wx_env, fields, 1))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in results)
    assert wx_env.count(InboundMessage) == 1
    assert wx_env.count(Ticket) == 1
    assert wx_env.count(OutboxMessage) == 1
    answered = [r for r in results if "咨询单号" in r.text]
    assert len(answered) >= 1  # the rest got the same reply or "success"
    assert all(r.text == "success" or "咨询单号" in r.text for r in results)


def test_events_deduplicated_by_sender_and_create_time(wx_env):
    fields = wx_env.sim.message_fields("event", "o_evt", event="subscribe")
    first, second = _post_same(wx_env, fields, 2)
    assert "欢迎" in wx_env.sim.read_reply(first.text, "o_evt")
    assert second.status_code == 200
    assert wx_env.count(InboundMessage) == 1 and wx_env.count(OutboxMessage) == 1


def test_dedupe_across_two_server_processes_sharing_the_database(wx_env):
    """Two app instances (as two workers would be) on one database: one answer."""
    from api.app import create_app
    from tests.conftest import UvicornThread, _free_port

    other = UvicornThread(create_app(wx_env.settings, assistant=wx_env.assistant),
                          _free_port()).start()
    try:
        fields = wx_env.sim.message_fields("text", "o_two", "房东不退押金怎么办", msg_id="900888")
        responses = []
        for url in (wx_env.webhook_url, f"http://127.0.0.1:{other.port}/wechat",
                    wx_env.webhook_url):
            query, body = wx_env.sim.signed_request(fields)
            responses.append(httpx.post(url, params=query, content=body,
                                        headers={"Content-Type": "text/xml"}))
        assert all(r.status_code == 200 for r in responses)
        assert wx_env.count(InboundMessage) == 1 and wx_env.count(OutboxMessage) == 1
    finally:
        other.stop()


@pytest.mark.redis
def test_redis_dedupe_path(wx_env_factory):
    url = redis_or_skip()
    import redis

    redis.Redis.from_url(url).flushdb()
    env = wx_env_factory(redis_url=url)
    fields = env.sim.message_fields("text", "o_redis", "公司拖欠工资怎么办", msg_id="900999")
    first, second = _post_same(env, fields, 2)
    assert "工资" in first.text
    assert env.sim.read_reply(second.text, "o_redis") == env.sim.read_reply(first.text, "o_redis")
    assert redis.Redis.from_url(url).exists("fazhi:wx:seen:msg:o_redis:900999")
    assert env.count(InboundMessage) == 1 and env.count(OutboxMessage) == 1


def test_one_residents_msgid_does_not_suppress_anothers_message(wx_env):
    """MsgIds are WeChat's, per account; a retry repeats sender and MsgId together."""
    for openid in ("o_first", "o_second"):
        fields = wx_env.sim.message_fields("text", openid, "公司拖欠工资怎么办", msg_id="900555")
        d = wx_env.sim.deliver(fields, attempts=1)
        assert d.ok and d.reply and "工资" in d.reply
    assert [r.openid for r in wx_env.inbound()] == ["o_first", "o_second"]
