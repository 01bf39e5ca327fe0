"""Each inbound message keeps what was decided for it: an answer can be traced to the exact
version of the entry the resident received."""
from __future__ import annotations

from sqlalchemy.orm import Session

from knowledge.versions import get_version


def _last_inbound(wx_env, openid: str):
    return [m for m in wx_env.inbound() if m.openid == openid][-1]


def test_an_answer_records_the_entry_and_the_version_the_resident_received(wx_env, wx_assistant):
    reply = wx_env.sim.send_text("o_trace", "公司拖欠工资怎么办").reply
    row = _last_inbound(wx_env, "o_trace")
    assert row.decision == "answer" and row.entry_id is not None and row.entry_version >= 1
    assert row.confidence is not None and row.category
    with Session(wx_assistant.store.engine) as s:
        version = get_version(s, row.entry_id, row.entry_version)
    assert version.content["answer"][:40] in reply


def test_an_escalation_records_its_reason_and_ticket(wx_env):
    wx_env.sim.send_text("o_trace_esc", "我要找律师，转人工")
    row = _last_inbound(wx_env, "o_trace_esc")
    assert row.decision == "escalate" and row.reason == "explicit_request"
    assert row.ticket_no and row.entry_id is None
