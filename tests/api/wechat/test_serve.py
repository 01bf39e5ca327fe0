"""`fazhi serve` and `fazhi wechat-sim` as real processes: crash (SIGKILL) and restart lose
nothing; two workers share dedupe and the token; the simulator drives the service."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.wechat.models import InboundMessage, OutboxMessage
from api.wechat.testing import WeChatSimulator
from knowledge.db import make_engine
from tests.conftest import WX_APP_ID, WX_APP_SECRET, WX_TOKEN, _free_port

ROOT = Path(__file__).resolve().parents[3]


def _env(tmp_path: Path, api_base: str, **extra: str) -> dict:
    """The environment of a served process: its own data dir, the test account, the simulator."""
    return dict(os.environ, FAZHI_DATA_DIR=str(tmp_path / "data"), FAZHI_EMBED_MODEL="hashing",
                FAZHI_WECHAT_TOKEN=WX_TOKEN, FAZHI_WECHAT_APP_ID=WX_APP_ID,
                FAZHI_WECHAT_APP_SECRET=WX_APP_SECRET, FAZHI_WECHAT_API_BASE=api_base, **extra)


def _fazhi(*args: str, env: dict, log: Path) -> subprocess.Popen:
    """The ``fazhi`` command line, as a process (``python -m api.cli`` is the same entry)."""
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _start(env: dict, port: int, log: Path, *extra: str) -> subprocess.Popen:
    proc = _fazhi("serve", "--port", str(port), "--log-level", "warning", *extra, env=env, log=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not become healthy")


@pytest.mark.slow
def test_serve_process_crash_and_restart_resumes_outbox_and_inbound(tmp_path):
    port = _free_port()
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", WX_TOKEN, WX_APP_ID,
                          WX_APP_SECRET).start()
    env = _env(tmp_path, sim.url, FAZHI_WECHAT_REPLY_BUDGET_S="0",
               FAZHI_WECHAT_RECOVER_AFTER_S="1", FAZHI_WECHAT_OUTBOX_BACKOFF_S="0.05")
    log = tmp_path / "serve.log"
    proc = _start(env, port, log)
    try:
        sim.state.inject("custom_send", http_status=503, count_=10_000)  # WeChat API down
        for i in range(5):
            assert sim.send_text(f"o_crash_{i}", "房东不退押金怎么办").ok  # stored, then 200
        proc.send_signal(signal.SIGKILL)  # crash with everything unsent
        proc.wait()
        engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'fazhi.db'}")
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(InboundMessage)) == 5
            assert conn.scalar(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status == "sent")) == 0
        sim.state.faults.clear()
        proc = _start(env, port, log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(sim.state.custom_sent) < 5:
            time.sleep(0.1)
        assert sorted(m["openid"] for m in sim.state.custom_sent) == \
            [f"o_crash_{i}" for i in range(5)]  # each resident answered exactly once
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(InboundMessage)
                               .where(InboundMessage.status != "answered")) == 0
        engine.dispose()
    finally:
        _stop(proc)
        sim.stop()


@pytest.mark.slow
def test_serve_two_worker_processes_share_dedupe_and_token(tmp_path):
    port = _free_port()
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", WX_TOKEN, WX_APP_ID,
                          WX_APP_SECRET).start()
    env = _env(tmp_path, sim.url, FAZHI_WECHAT_REPLY_BUDGET_S="0")
    log = tmp_path / "serve.log"
    proc = _start(env, port, log, "--workers", "2")
    try:
        time.sleep(2)  # both workers up (the first healthy answer may come from one)
        for i in range(8):
            fields = sim.message_fields("text", f"o_mw_{i}", "房东不退押金怎么办",
                                        msg_id=str(880000 + i))
            for _ in range(3):  # the same callback three times: whichever worker gets it
                assert sim.deliver(fields, attempts=1).ok
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(sim.state.custom_sent) < 8:
            time.sleep(0.1)
        time.sleep(0.5)
        assert sorted(m["openid"] for m in sim.state.custom_sent) == \
            [f"o_mw_{i}" for i in range(8)]  # one answer each
        assert sim.state.calls["stable_token"] == 1  # one token for both workers
    finally:
        _stop(proc)
        sim.stop()


@pytest.mark.slow
def test_wechat_sim_command_drives_the_served_webhook(tmp_path):
    """`fazhi wechat-sim` signs callbacks and serves the API; `fazhi serve` answers through it."""
    port, sim_port = _free_port(), _free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    env = _env(tmp_path, sim_url)
    log = tmp_path / "run.log"
    sim = _fazhi("wechat-sim", "--port", str(sim_port), "--webhook",
                 f"http://127.0.0.1:{port}/wechat", env=env, log=log)
    proc = _start(env, port, log)
    try:
        reply = httpx.post(f"{sim_url}/_sim/send", json={"openid": "o_cli_sim", "type": "text",
                                                          "content": "老板拖欠工资怎么办"},
                           timeout=30).json()
        assert reply["ok"] and reply["reply"], reply
        texts = httpx.get(f"{sim_url}/_sim/transcript", params={"openid": "o_cli_sim"},
                          timeout=10).json()["messages"]
        assert texts and "劳动" in texts[0]["content"], texts
        wrong = httpx.get(f"http://127.0.0.1:{port}/wechat", timeout=10, params={
            "signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1",
            "echostr": "leak"})
        assert wrong.status_code == 403 and "leak" not in wrong.text
    finally:
        _stop(proc)
        _stop(sim)


@pytest.mark.slow
def test_served_logs_mask_personal_numbers_and_keep_every_access_line(tmp_path):
    """Through the logging config of ``fazhi serve``: our lines, httpx's and uvicorn's
    (access lines are formatted from the record's arguments) are masked, none breaks."""
    port = _free_port()
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", WX_TOKEN, WX_APP_ID,
                          WX_APP_SECRET).start()
    log = tmp_path / "serve.log"
    proc = _fazhi("serve", "--port", str(port), "--log-level", "info",
                  env=_env(tmp_path, sim.url), log=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert sim.send_text("o_logs", "我身份证110101199003071234，电话13812345678").ok
        for path in ("/healthz?id=110101199003071234", "/healthz?tel=13812345678", "/healthz"):
            assert httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10).status_code == 200
    finally:
        _stop(proc)
        sim.stop()
    text = log.read_text()
    assert "Logging error" not in text and "Traceback" not in text, text[-3000:]
    for raw in ("110101199003071234", "13812345678"):
        assert raw not in text
    assert "inbound" in text and "110101********1234" in text  # our own line, masked
    assert '"GET /healthz?id=110101********1234 HTTP/1.1" 200' in text  # uvicorn's, masked
    assert '"GET /healthz HTTP/1.1" 200' in text
    assert text.count('"POST /wechat?') >= 1
