"""Small pieces of the channel on their own: job hand-over, message fitting, XML, settings."""
from __future__ import annotations

import pytest

from api.app import ConfigError, check_settings, server_settings
from api.settings import Settings
from api.wechat.channel import Job
from api.wechat.protocol.crypto import BadSignature, CallbackAuthenticator, CallbackParams, StaleTimestamp
from api.wechat.protocol.xml import MissingField, parse_message, render_message, render_text_reply
from api.wechat.testing import sign
from assistant.dialogue.conversation import append_line
from assistant.reply import WECHAT_MAX_BYTES


def test_job_passive_when_ready_in_time():
    job = Job()
    assert job.claim_passive()
    assert job.finish("答复") is True
    assert job.give_up() == "答复"


def test_job_late_claim_is_refused_after_give_up():
    job = Job()
    assert job.give_up() is None  # the webhook answered "success"
    assert job.claim_passive() is False  # so the worker sends everything as custom messages
    assert job.finish(None) is True


def test_job_claimed_then_abandoned_asks_for_demotion():
    job = Job()
    assert job.claim_passive()
    assert job.give_up() is None  # budget spent while the worker was committing
    assert job.finish("答复") is False  # -> the worker demotes the passive row to custom


def test_append_line_respects_wechat_limit():
    assert append_line(["答复"], "请评价") == ["答复\n\n请评价"]
    full = "法" * (WECHAT_MAX_BYTES // 3)
    out = append_line([full], "请评价")
    assert out == [full, "请评价"]
    assert all(len(m.encode("utf-8")) <= WECHAT_MAX_BYTES for m in out)


def test_reply_xml_round_trips_awkward_content():
    xml = render_text_reply("o_1", "gh_1", "含有 ]]> 与 <标签> & 符号")
    fields = parse_message(xml.replace("<MsgType>", "<MsgId>1</MsgId><MsgType>")).fields
    assert fields["Content"] == "含有 ]]> 与 <标签> & 符号"


def test_missing_msgid_rejected():
    with pytest.raises(MissingField):
        parse_message(render_message({"ToUserName": "gh", "FromUserName": "o", "CreateTime": "1",
                                      "MsgType": "text", "Content": "x"}))


def test_authenticator_checks_signature_and_clock():
    auth = CallbackAuthenticator("tok", "wx_app", tolerance_s=300)
    ok = CallbackParams(sign("tok", "1000", "n"), "1000", "n")
    auth.check(ok, now=1100)
    with pytest.raises(StaleTimestamp):
        auth.check(ok, now=2000)
    with pytest.raises(BadSignature):
        auth.check(CallbackParams(sign("other", "1000", "n"), "1000", "n"), now=1000)


def test_settings_checks():
    with pytest.raises(ConfigError):
        check_settings(Settings(wechat_token="").wechat)
    with pytest.raises(ConfigError):
        check_settings(Settings(wechat_token="t", wechat_aes_key="short").wechat)
    assert server_settings(Settings(embed_threads=3)).index.embed_threads == 3
    assert server_settings(Settings(embed_threads=0)).index.embed_threads >= 1
