"""Shared fixtures: real SQLite in temp dirs, the real prepared model where semantics matter."""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.app import create_app
from api.settings import Settings
from api.wechat.models import InboundMessage, OutboxMessage
from api.wechat.testing import WeChatSimulator
from knowledge.db import make_engine
from tests.helpers import Console, copy_sqlite

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def shared_file(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"../shared/data/{name} is not present")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh data dir with the fast deterministic embedder (for plumbing tests)."""
    return Settings(data_dir=tmp_path / "data", embed_model="hashing")


@pytest.fixture
def store(settings: Settings):
    from assistant.service import open_store

    return open_store(settings.storage)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose embedded model is prepared once per test session."""
    root = tmp_path_factory.mktemp("e5")
    from index.embedder import embedded_model_dir
    from index.model.prepare import prepare_model

    prepare_model(embedded_model_dir(Settings(data_dir=root).storage), progress=lambda _m: None)
    return root


@pytest.fixture(scope="session")
def e5_assistant(model_root: Path):
    """The assistant on the seed knowledge base with the real embedded model."""
    from assistant.service import open_assistant

    return open_assistant(Settings(data_dir=model_root), progress=lambda _m: None, show_progress=False)


PG_ADMIN_URL = os.environ.get("FAZHI_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"fazhi_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# -- the WeChat channel: the simulator and the webhook as real HTTP servers ----------

WX_TOKEN = "fazhi_test_token_7f3a"
WX_APP_ID = "wx_test_app_0001"
WX_APP_SECRET = "app_secret_do_not_log_9c1e"
WX_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars, as WeChat issues them

LONG_FAQ_QUESTION = "遭遇电信网络诈骗后应该怎么办？"


def _long_answer() -> str:
    steps = [
        "第一步，立即停止转账，不要再向对方支付任何“解冻费”“保证金”“手续费”。",
        "第二步，马上拨打110或到就近派出所报案，说明转账时间、金额、收款账户和对方联系方式。",
        "第三步，保存全部证据：聊天记录截图、通话记录、转账凭证、对方发送的链接和二维码。",
        "第四步，联系自己的开户银行或支付平台，说明被骗情况，配合公安机关申请紧急止付和冻结。",
        "第五步，警惕“二次诈骗”：自称能帮您追回损失、收取代理费的人多数也是骗子。",
        "第六步，案件侦破后，被冻结的涉案资金可以依法返还；也可以依法向实施诈骗的人提起民事诉讼。",
    ]
    body = "".join(f"{s}这一步很重要，请务必按照公安机关和银行的要求如实提供材料，不要隐瞒或遗漏。" * 2
                   for s in steps)
    return body * 2  # well over one WeChat message (2048 bytes)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def wx_assistant(tmp_path_factory: pytest.TempPathFactory):
    """The assistant on the seed KB plus one long FAQ, with the hashing embedder."""
    from assistant.service import open_assistant, open_store
    from knowledge.entry import EntryData
    from knowledge.seed import load_seed

    settings = Settings(data_dir=tmp_path_factory.mktemp("wx_kb"), embed_model="hashing")
    store = open_store(settings.storage)
    load_seed(store)
    store.upsert(EntryData(kind="faq", external_id="wx-test-long", category="其他",
                           question=LONG_FAQ_QUESTION, answer=_long_answer(),
                           alt_questions=["被电信诈骗了怎么办", "网络诈骗被骗钱怎么追回"]))
    return open_assistant(settings, progress=lambda _m: None, show_progress=False, store=store)


class UvicornThread:
    """The webhook app served by real uvicorn on loopback, in a thread."""

    def __init__(self, app, port: int) -> None:
        self.port = port
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@dataclass
class WxEnv:
    settings: Settings
    sim: WeChatSimulator
    server: UvicornThread
    engine: Engine
    assistant: object
    _extra: list = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/wechat"

    def count(self, model, *where) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def inbound(self) -> list[InboundMessage]:
        from sqlalchemy.orm import Session

        with Session(self.engine) as s:
            return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))

    def outbox(self, openid: str | None = None) -> list[OutboxMessage]:
        from sqlalchemy.orm import Session

        with Session(self.engine) as s:
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)
            if openid:
                stmt = stmt.where(OutboxMessage.openid == openid)
            return list(s.scalars(stmt))

    def wait_outbox_settled(self, timeout_s: float = 30.0) -> None:
        """Every inbound message answered and every custom message sent, held or failed."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            busy = self.count(OutboxMessage, OutboxMessage.status.in_(("pending", "sending")))
            busy += self.count(InboundMessage, InboundMessage.status == "processing")
            if not busy:
                return
            time.sleep(0.05)
        raise AssertionError("outbox did not settle")

    def restart(self) -> None:
        """Stop the server and start a new one (same data dir): a worker restart."""
        self.server.stop()
        self.server = UvicornThread(create_app(self.settings, assistant=self.assistant),
                                    _free_port()).start()
        self.sim.webhook_url = self.webhook_url


@pytest.fixture
def wx_env_factory(tmp_path: Path, wx_assistant) -> Iterator[Callable[..., WxEnv]]:
    """``make(mode="plain"|"compat"|"safe", **settings_overrides) -> WxEnv``."""
    envs: list[WxEnv] = []

    def make(mode: str = "plain", callback_timeout_s: float = 60.0, **overrides) -> WxEnv:
        # WeChat's 5-second limit (our 4 s budget) is not what these tests are about, except
        # where a test sets it: a busy machine must not turn a passive reply into a retry.
        aes = WX_AES_KEY if mode != "plain" else ""
        sim = WeChatSimulator("http://127.0.0.1:1/wechat", WX_TOKEN, WX_APP_ID, WX_APP_SECRET,
                              aes, mode, callback_timeout_s).start()
        values = dict(data_dir=tmp_path / f"wx{len(envs)}", embed_model="hashing",
                      wechat_token=WX_TOKEN, wechat_app_id=WX_APP_ID,
                      wechat_app_secret=WX_APP_SECRET, wechat_aes_key=aes,
                      wechat_api_base=sim.url, wechat_outbox_backoff_s=0.05,
                      wechat_outbox_poll_s=0.05, wechat_reply_budget_s=30.0)
        values.update(overrides)
        settings = Settings(**values)
        server = UvicornThread(create_app(settings, assistant=wx_assistant), _free_port()).start()
        sim.webhook_url = f"http://127.0.0.1:{server.port}/wechat"
        env = WxEnv(settings, sim, server, make_engine(settings.storage.sqlalchemy_url), wx_assistant)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.server.stop()
        env.sim.stop()
        env.engine.dispose()


@pytest.fixture
def wx_env(wx_env_factory) -> WxEnv:
    """Plaintext mode, default settings."""
    return wx_env_factory()


def redis_or_skip(url: str = "redis://127.0.0.1:6379/15") -> str:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    return url



def http_client() -> httpx.Client:
    return httpx.Client(timeout=10)


# -- the console over HTTP (TestClient on the real app) ------------------------------------

@pytest.fixture(scope="session")
def console_kb(tmp_path_factory):
    """The seed knowledge base (hashing embedder), built once; each test copies its
    database so candidate texts resolve against the same entry ids."""
    from assistant.service import open_assistant

    root = tmp_path_factory.mktemp("console_kb")
    assistant = open_assistant(Settings(data_dir=root, embed_model="hashing"),
                               progress=lambda _m: None, show_progress=False)
    return assistant, root / "fazhi.db"


@pytest.fixture
def console(console_kb, tmp_path):
    assistant, db = console_kb
    data = tmp_path / "data"
    data.mkdir()
    copy_sqlite(db, data / "fazhi.db")
    settings = Settings(data_dir=data, embed_model="hashing", wechat_token="console-test")
    app = create_app(settings, assistant=assistant)
    with TestClient(app) as client:
        yield Console(app, client, settings, assistant)


@pytest.fixture
def kb_console(console_kb, tmp_path):
    """The console on its own copy of the seed knowledge base, index and vector cache, with
    its own assistant: for tests that change the knowledge base (``console`` shares one)."""
    import shutil

    from assistant.service import open_assistant

    _shared, db = console_kb
    data = tmp_path / "data"
    shutil.copytree(db.parent, data, ignore=shutil.ignore_patterns("fazhi.db*"))
    copy_sqlite(db, data / "fazhi.db")
    settings = Settings(data_dir=data, embed_model="hashing", wechat_token="console-test")
    assistant = open_assistant(settings, progress=lambda _m: None, show_progress=False)
    app = create_app(settings, assistant=assistant)
    with TestClient(app) as client:
        yield Console(app, client, settings, assistant)


@pytest.fixture
def pg_console(console_kb, tmp_path, pg_url):
    """The console on PostgreSQL (an empty knowledge base there: candidates have no text)."""
    assistant, _db = console_kb
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, embed_model="hashing",
                        wechat_token="console-test")
    app = create_app(settings, assistant=assistant)
    with TestClient(app) as client:
        yield Console(app, client, settings, assistant)
