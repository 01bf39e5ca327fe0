"""Hostile and broken callbacks: each gets a clean response and a log line, never a 500,
never a stored half-record; secrets and personal numbers stay out of the logs."""
from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlencode

import httpx
import pytest

from api.log_mask import PiiMaskingFilter, mask_pii
from api.wechat.models import InboundMessage, OutboxMessage
from api.wechat.protocol.xml import render_message
from api.wechat.testing import sign
from assistant.dialogue import texts as T
from tests.conftest import WX_AES_KEY, WX_APP_SECRET, WX_TOKEN

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&e;</Content><MsgId>2</MsgId></xml>"""


def _post(env, body: bytes | str, content_type: str = "text/xml", **headers) -> httpx.Response:
    """A correctly signed POST (plaintext-mode parameters) with an arbitrary body."""
    ts, nonce = str(int(time.time())), "424242"
    query = {"signature": sign(WX_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return httpx.post(env.webhook_url, params=query, content=raw,
                      headers={"Content-Type": content_type, **headers}, timeout=10)


BAD = {
    "malformed": ("<xml><ToUserName>gh</ToUser", "text/xml", 400),
    "not_xml_root": ("<html><body>hi</body></html>", "text/xml", 400),
    "billion_laughs": (BILLION_LAUGHS, "text/xml", 400),
    "external_entity": (EXTERNAL_ENTITY, "text/xml", 400),
    "wrong_content_type": ('{"MsgType": "text"}', "application/json", 415),
    "form_content_type": ("a=b", "application/x-www-form-urlencoded", 415),
    "missing_fields": ("<xml><MsgType>text</MsgType><Content>hi</Content></xml>", "text/xml", 400),
    "missing_msgid": (render_message({"ToUserName": "gh", "FromUserName": "o_x",
                                      "CreateTime": "1", "MsgType": "text", "Content": "hi"}),
                      "text/xml", 400),
    "bad_create_time": (render_message({"ToUserName": "gh", "FromUserName": "o_x",
                                        "CreateTime": "soon", "MsgType": "text",
                                        "Content": "hi", "MsgId": "5"}), "text/xml", 400),
    # Numbers and names beyond what WeChat sends, or what the columns hold: 400, not 500.
    **{case: (render_message({"ToUserName": "gh", "FromUserName": "o_x", "CreateTime": "1",
                              "MsgType": "text", "Content": "hi", "MsgId": "5", **fields}),
              "text/xml", 400)
       for case, fields in {
           "create_time_overflow": {"CreateTime": "100000000000000000000"},
           "create_time_beyond_bigint": {"CreateTime": str(2**63)},
           "negative_create_time": {"CreateTime": "-1"},
           "msgid_beyond_64_bits": {"MsgId": str(2**64)},
           "msgid_not_a_number": {"MsgId": "abc"},
           "overlong_msg_type": {"MsgType": "t" * 33},
           "overlong_event": {"MsgType": "event", "Event": "e" * 65},
           "overlong_to_user": {"ToUserName": "g" * 65},
           "overlong_from_user": {"FromUserName": "o" * 65},
       }.items()},
    "invalid_utf8": (b"<xml><Content>\xff\xfe\xfa</Content></xml>", "text/xml", 400),
    "empty": (b"", "text/xml", 400),
    "oversized": ("<xml>" + "a" * (70 * 1024) + "</xml>", "text/xml", 413),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_clean_response_and_nothing_stored(wx_env, caplog, case):
    body, ctype, status = BAD[case]
    with caplog.at_level(logging.WARNING, logger="fazhi"):
        resp = _post(wx_env, body, ctype)
    assert resp.status_code == status, resp.text
    assert "Traceback" not in resp.text and "passwd" not in resp.text
    assert wx_env.count(InboundMessage) == 0 and wx_env.count(OutboxMessage) == 0
    assert any("rejected POST /wechat" in r.getMessage() for r in caplog.records)
    assert httpx.get(f"{wx_env.base_url}/healthz").status_code == 200  # still serving


def test_the_largest_numbers_wechat_sends_are_stored(wx_env):
    """MsgId is a 64-bit number; CreateTime from 2038 on no longer fits 32 bits."""
    fields = wx_env.sim.message_fields("text", "o_big", "你好", msg_id=str(2**64 - 1),
                                       CreateTime=str(2**31 + 1))
    query, body = wx_env.sim.signed_request(fields)
    resp = httpx.post(wx_env.webhook_url, params=query, content=body,
                      headers={"Content-Type": "text/xml"})
    assert resp.status_code == 200
    [row] = wx_env.inbound()
    assert row.wx_create_time == 2**31 + 1 and str(2**64 - 1) in row.dedupe_key


def test_oversized_body_refused_without_reading_it(wx_env):
    """A declared 10 MB body is refused from the headers, before any of it is sent."""
    ts, nonce = str(int(time.time())), "434343"
    query = {"signature": sign(WX_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    target = "/wechat?" + urlencode(query)
    with socket.create_connection(("127.0.0.1", wx_env.server.port), timeout=5) as sock:
        sock.sendall((f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: text/xml\r\nContent-Length: 10485760\r\n\r\n<xml>")
                     .encode("ascii"))
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413")


def test_enormous_text_is_answered_and_truncated(wx_env):
    text = "公司拖欠工资怎么办" * 3000  # ~80 KB of UTF-8: over the body limit
    d = wx_env.sim.send_text("o_huge", text)
    assert not d.ok and d.attempts[0].status == 413
    text = "公司拖欠工资怎么办，" * 1500  # ~45 KB: within the limit, far beyond a question
    d = wx_env.sim.send_text("o_huge", text)
    assert d.ok and d.reply
    [row] = wx_env.inbound()
    assert len(row.content) <= 4000


def test_emoji_flood_gets_a_clean_reply(wx_env):
    d = wx_env.sim.send_text("o_emoji", "😀🎉🔥" * 600 + "👨‍👩‍👧‍👦" * 100)
    assert d.ok and d.reply and len(d.reply.encode("utf-8")) <= 2048
    d = wx_env.sim.send_text("o_emoji2", "欠薪😡😡😡怎么办🙏🙏")
    assert d.ok and d.reply


def test_unknown_event_is_acknowledged(wx_env):
    d = wx_env.sim.send_event("o_evt_x", "SOME_NEW_EVENT")
    assert d.ok and d.attempts[0].body == "success"
    d = wx_env.sim.send_event("o_evt_y", "CLICK", key="NO_SUCH_KEY")
    assert d.ok and d.reply == T.EMPTY_TEXT


def test_secrets_and_personal_numbers_stay_out_of_logs(wx_env_factory, caplog):
    env = wx_env_factory("safe", wechat_reply_budget_s=0.0)  # replies via custom/send
    caplog.handler.addFilter(PiiMaskingFilter())  # as logging_config() does on every handler
    with caplog.at_level(logging.DEBUG):
        env.sim.send_text("o_pii", "我身份证110101199003071234，电话13812345678，公司拖欠工资")
        env.sim.send_text("o_pii", "工资卡6222021234567890123一直没有到账")
        env.sim.send_text("o_pii2", "转人工")
        env.sim.wait_for("o_pii2", 1)
        env.wait_outbox_settled()
        _post(env, "<xml>")  # a rejection log line
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "inbound" in text and "custom/send" in text  # the traffic was logged ...
    access_token = env.sim.state.stable
    assert access_token
    for secret in (WX_TOKEN, WX_APP_SECRET, WX_AES_KEY, access_token, "110101199003071234",
                   "13812345678", "6222021234567890123"):
        assert secret not in text  # ... without secrets or full numbers
    assert "110101********1234" in text and "138****5678" in text


def test_mask_pii():
    masked = mask_pii("身份证 11010119900307123X 手机 +86 138-1234-5678 座机 010-12345678"
                      " url /send?access_token=abcDEF123&x=1")
    assert "11010119900307123X" not in masked and "110101********123X" in masked
    assert "abcDEF123" not in masked and "access_token=***&x=1" in masked
    assert "1234-5678" not in masked and "5678" in masked
    assert "12345678" not in masked


@pytest.mark.parametrize("text, masked", [
    ("卡号6222021234567890123", "卡号622202*********0123"),  # 19 digits
    ("卡号 6222 0212 3456 7890", "卡号 622202******7890"),  # 16, in groups
    ("卡号6222-0212-3456-7890-12", "卡号622202********9012"),  # 18 digits, like an ID
    ("身份证１１０１０１１９９００３０７１２３４", "身份证110101********1234"),  # full-width
    ("身份证１１０１０１１９９００３０７１２３Ｘ", "身份证110101********123X"),
    ("身份证 110101 19900307 1234", "身份证 110101********1234"),  # with spaces
    ("身份证 110101 1990 0307 123X", "身份证 110101********123X"),
    ("电话 13812345678 110101199003071234", "电话 138****5678 110101********1234"),
    ("手机１３８１２３４５６７８", "手机138****5678"),
    ("订单 2024-01-15 12:30，金额 3000 元", "订单 2024-01-15 12:30，金额 3000 元"),
])
def test_bank_cards_full_width_and_spaced_numbers_are_masked(text, masked):
    assert mask_pii(text) == masked


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_the_mask_keeps_the_arguments_that_uvicorns_access_formatter_reads():
    from uvicorn.logging import AccessFormatter

    record = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                     "/healthz?id=110101199003071234", "1.1", 200)
    assert PiiMaskingFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                           use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /healthz?id=110101********1234 HTTP/1.1" 200 OK'


def test_a_number_spread_over_arguments_is_masked_in_the_message():
    record = _record("fazhi.test", "证件号 %s%s（%d 次）", "1101011990", "03071234", 2)
    assert PiiMaskingFilter().filter(record)
    assert logging.Formatter("%(message)s").format(record) == "证件号 110101********1234（2 次）"


def test_the_served_logging_config_masks_on_every_handler():
    from api.log_mask import logging_config

    config = logging_config("warning")
    assert config["root"]["level"] == "WARNING"
    assert {"default", "access", "fazhi"} <= set(config["handlers"])
    assert all(h["filters"] == ["pii"] for h in config["handlers"].values())
