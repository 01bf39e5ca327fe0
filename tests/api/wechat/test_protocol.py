"""WeChat protocol end to end: the simulator (real HTTP) against the webhook (real uvicorn)."""
from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from api.wechat.protocol.xml import render_message
from api.wechat.testing import sign
from assistant.dialogue import texts as T
from assistant.dialogue.models import Conversation
from tests.conftest import WX_TOKEN


# -- URL verification --------------------------------------------------------------------
def test_url_verification_echoes_echostr(wx_env):
    resp = wx_env.sim.verify_url("echo_5f2c")
    assert resp.status_code == 200 and resp.text == "echo_5f2c"


@pytest.mark.parametrize("tamper", ["signature", "timestamp", "missing"])
def test_url_verification_rejects_bad_or_stale_signatures(wx_env, tamper):
    ts, nonce = str(int(time.time())), "12345"
    params = {"signature": sign(WX_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
              "echostr": "leak_me"}
    if tamper == "signature":
        params["signature"] = sign("wrong_token", ts, nonce)
    elif tamper == "timestamp":  # correctly signed but 10 minutes old: a replay
        old = str(int(time.time()) - 600)
        params.update(timestamp=old, signature=sign(WX_TOKEN, old, nonce))
    else:
        params.pop("signature")
    resp = httpx.get(wx_env.webhook_url, params=params)
    assert resp.status_code == 403
    assert "leak_me" not in resp.text


def test_unsigned_post_gets_no_answer_and_stores_nothing(wx_env):
    fields = wx_env.sim.message_fields("text", "o_intruder", "公司拖欠工资怎么办")
    query, body = wx_env.sim.signed_request(fields)
    query["signature"] = "0" * 40
    resp = httpx.post(wx_env.webhook_url, params=query, content=body,
                      headers={"Content-Type": "text/xml"})
    assert resp.status_code == 403
    assert "工资" not in resp.text and resp.text == "forbidden"
    assert wx_env.count(InboundMessage) == 0


# -- message types -----------------------------------------------------------------------
def test_text_message_answered_passively_and_stored(wx_env):
    d = wx_env.sim.send_text("o_res_text", "公司拖欠工资怎么办")
    assert d.ok and len(d.attempts) == 1
    assert d.reply and "工资" in d.reply and T.RATING_PROMPT in d.reply
    [row] = wx_env.inbound()
    assert (row.openid, row.msg_type, row.status) == ("o_res_text", "text", "answered")
    assert row.content == "公司拖欠工资怎么办"
    [out] = wx_env.outbox()
    assert (out.channel, out.status, out.content) == ("passive", "sent", d.reply)


def test_voice_with_recognition_is_answered_as_text(wx_env):
    d = wx_env.sim.send("voice", "o_voice", recognition="公司拖欠工资怎么办")
    assert d.reply and "工资" in d.reply


def test_voice_without_recognition_asks_to_type(wx_env):
    d = wx_env.sim.send("voice", "o_voice2")
    assert d.reply == T.VOICE_UNRECOGNISED


@pytest.mark.parametrize("kind", ["image", "location", "link", "video", "shortvideo"])
def test_unsupported_types_get_a_polite_reply(wx_env, kind):
    d = wx_env.sim.send(kind, f"o_{kind}")
    assert d.ok and d.reply == T.UNSUPPORTED
    assert wx_env.inbound()[0].msg_type == kind


def test_unknown_message_type_gets_a_polite_reply(wx_env):
    d = wx_env.sim.send("miniprogrampage", "o_unknown", Title="小程序")
    assert d.ok and d.reply == T.UNSUPPORTED


def test_subscribe_welcome_and_unsubscribe_recorded(wx_env):
    d = wx_env.sim.send_event("o_sub", "subscribe")
    assert d.reply == T.WELCOME
    for needle in ("转人工", "12348", "隐私"):
        assert needle in d.reply
    time.sleep(1.05)  # events are deduplicated by FromUserName + CreateTime (seconds)
    d2 = wx_env.sim.send_event("o_sub", "unsubscribe")
    assert d2.ok and d2.reply is None and d2.attempts[0].body == "success"
    with Session(wx_env.engine) as s:
        conv = s.get(Conversation, "o_sub")
        assert conv is not None and conv.subscribed is False and conv.unsubscribed_at


def test_menu_clicks(wx_env):
    d = wx_env.sim.send_event("o_menu", "CLICK", key="MENU_FAQ")
    assert d.reply == T.FAQ_MENU
    time.sleep(1.05)
    d = wx_env.sim.send_event("o_menu", "CLICK", key="MENU_MY_TICKETS")
    assert d.reply == T.NO_TICKETS
    time.sleep(1.05)
    d = wx_env.sim.send_event("o_menu", "CLICK", key="MENU_HANDOFF")
    assert d.reply and "咨询单号：FZ" in d.reply
    time.sleep(1.05)
    d = wx_env.sim.send_event("o_menu", "CLICK", key="MENU_MY_TICKETS")
    assert d.reply.startswith(T.MY_TICKETS_HEAD) and "排队中" in d.reply


def test_menu_keys_are_configurable(wx_env_factory):
    env = wx_env_factory(wechat_menu_actions={"KB": "faq"})
    assert env.sim.send_event("o_cfg", "CLICK", key="KB").reply == T.FAQ_MENU


# -- safe and compatible modes -------------------------------------------------------------
@pytest.mark.parametrize("mode", ["safe", "compat"])
def test_encrypted_modes_round_trip(wx_env_factory, mode):
    env = wx_env_factory(mode)
    d = env.sim.send_text("o_safe", "公司拖欠工资怎么办")
    assert d.ok and d.reply and "工资" in d.reply
    body = d.attempts[0].body
    assert "<Encrypt>" in body and "工资" not in body  # the reply itself is encrypted
    assert env.sim.verify_url("echo_safe").text == "echo_safe"


def test_safe_mode_rejects_bad_msg_signature(wx_env_factory):
    env = wx_env_factory("safe")
    fields = env.sim.message_fields("text", "o_safe2", "你好")
    query, body = env.sim.signed_request(fields)
    query["msg_signature"] = "f" * 40
    resp = httpx.post(env.webhook_url, params=query, content=body,
                      headers={"Content-Type": "text/xml"})
    assert resp.status_code == 403
    assert env.count(InboundMessage) == 0


def test_safe_mode_rejects_garbage_ciphertext(wx_env_factory):
    env = wx_env_factory("safe")
    ts, nonce = str(int(time.time())), "777"
    encrypt = "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0"
    query = {"signature": sign(WX_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
             "encrypt_type": "aes", "msg_signature": sign(WX_TOKEN, ts, nonce, encrypt)}
    resp = httpx.post(env.webhook_url, params=query,
                      content=f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>",
                      headers={"Content-Type": "text/xml"})
    assert resp.status_code == 403


def test_healthz(wx_env):
    resp = httpx.get(f"{wx_env.base_url}/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


def test_simulator_control_endpoints_over_http(wx_env):
    sim = wx_env.sim.url
    resp = httpx.post(f"{sim}/_sim/send", json={"openid": "o_ctl", "type": "text",
                                                "content": "公司拖欠工资怎么办"})
    assert resp.status_code == 200 and "工资" in resp.json()["reply"]
    transcript = httpx.get(f"{sim}/_sim/transcript", params={"openid": "o_ctl"}).json()
    assert transcript["messages"][0]["kind"] == "passive"
    assert httpx.post(f"{sim}/_sim/nope", json={}).status_code == 404
    # The API side speaks WeChat's error codes.
    bad = httpx.post(f"{sim}/cgi-bin/stable_token", json={"grant_type": "client_credential",
                                                          "appid": "wx_other", "secret": "x"})
    assert bad.json()["errcode"] == 40013
    bad = httpx.post(f"{sim}/cgi-bin/message/custom/send", params={"access_token": "forged"},
                     json={"touser": "o_ctl", "msgtype": "text", "text": {"content": "hi"}})
    assert bad.json()["errcode"] == 40001
    assert httpx.post(f"{sim}/_sim/fault", json={"api": "custom_send", "errcode": 45015}).json()
    assert httpx.get(f"{sim}/_sim/stats").json()["faults"]["custom_send"][0]["errcode"] == 45015


@pytest.mark.parametrize("mode", ["safe", "compat"])
@pytest.mark.parametrize("encrypt_type", [None, "raw"])
def test_with_an_aes_key_a_plaintext_message_is_refused(wx_env_factory, mode, encrypt_type):
    """``signature`` covers only token, timestamp and nonce (any logged callback URL shows a
    valid set), so with an AES key only ``msg_signature`` over the ciphertext binds a body."""
    env = wx_env_factory(mode)
    fields = env.sim.message_fields("text", "o_victim", "我要转人工")
    ts, nonce = str(int(time.time())), "31337"
    query = {"signature": sign(WX_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    if encrypt_type is not None:
        query["encrypt_type"] = encrypt_type
    resp = httpx.post(env.webhook_url, params=query, content=render_message(fields),
                      headers={"Content-Type": "text/xml"})
    assert resp.status_code == 403 and resp.text == "forbidden"
    assert env.count(InboundMessage) == 0
    assert env.sim.send_text("o_genuine", "你好").ok  # real encrypted callbacks still work
