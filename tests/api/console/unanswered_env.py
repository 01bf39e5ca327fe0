"""The service on its own copy of the seed knowledge base (hashing embedder), served by real
uvicorn with the WeChat simulator as WeChat, and the console over real HTTP: residents' messages
go through the webhook, admins use the pages (the learning-loop tests change the knowledge
base, so they cannot share ``wx_assistant``)."""
from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from api.wechat.testing import WeChatSimulator
from knowledge.db import make_engine
from tests.conftest import WX_APP_ID, WX_APP_SECRET, WX_TOKEN, UvicornThread, WxEnv, _free_port
from tests.helpers import PASSWORD, copy_sqlite, csrf_of

# Two situations the seed knowledge base does not cover (each phrasing is escalated).
PET = ["宠物医院把我家猫治死了能索赔吗", "我家猫在宠物医院被治死了，能索赔吗", "宠物医院把猫治死了可以索赔吗"]
PET_NEXT = "宠物医院把我的猫治死了，能索赔吗"  # asked again once a draft is published
DRONE = ["邻居扣下了我飞过去的无人机不还怎么办", "我的无人机飞过去被邻居扣下不还了怎么办",
         "无人机被邻居扣下了不还给我怎么办"]
LAWYER_ANSWER = ("宠物在诊疗中死亡，宠物医院有过错的（如违反诊疗规范、未尽告知义务），"
                 "主人可以要求赔偿宠物价值和诊疗费用。请保留病历、收费单据和沟通记录。")


@dataclass
class LoopEnv(WxEnv):
    app: object = None

    def add(self, username: str, role: str = "admin", name: str | None = None):
        return self.app.state.accounts.add(username, PASSWORD, name or username, role)

    def login(self, username: str) -> httpx.Client:
        client = httpx.Client(base_url=self.base_url, timeout=60)
        page = client.get("/login")
        r = client.post("/login", data={"username": username, "password": PASSWORD,
                                        "csrf_token": csrf_of(page.text), "next": ""})
        assert r.status_code == 303, r.text
        return client

    def ask(self, texts: list[str], prefix: str) -> list[str]:
        """Each text from its own resident; the replies."""
        return [self.sim.send_text(f"o_{prefix}_{i}", t).reply for i, t in enumerate(texts)]


@pytest.fixture(name="loop_env")
def loop_env_fixture(console_kb, tmp_path) -> Iterator[LoopEnv]:
    from assistant.service import open_assistant

    _shared, db = console_kb
    data = tmp_path / "data"
    shutil.copytree(db.parent, data, ignore=shutil.ignore_patterns("fazhi.db*"))
    copy_sqlite(db, data / "fazhi.db")
    sim = WeChatSimulator("http://127.0.0.1:1/wechat", WX_TOKEN, WX_APP_ID, WX_APP_SECRET,
                          "", "plain", 60.0).start()
    settings = Settings(data_dir=data, embed_model="hashing", wechat_token=WX_TOKEN,
                        wechat_app_id=WX_APP_ID, wechat_app_secret=WX_APP_SECRET,
                        wechat_api_base=sim.url, wechat_outbox_backoff_s=0.05,
                        wechat_outbox_poll_s=0.05, wechat_reply_budget_s=30.0)
    assistant = open_assistant(settings, progress=lambda _m: None, show_progress=False)
    app = create_app(settings, assistant=assistant)
    server = UvicornThread(app, _free_port()).start()
    sim.webhook_url = f"http://127.0.0.1:{server.port}/wechat"
    env = LoopEnv(settings, sim, server, make_engine(settings.storage.sqlalchemy_url), assistant,
                  app=app)
    yield env
    server.stop()
    sim.stop()
    env.engine.dispose()


def group_forms(html: str) -> list[tuple[str, list[int]]]:
    """(representative question, the question ids its draft form carries) per group shown."""
    found = []
    for block in re.findall(r'<article class="card learn-group".*?</article>', html, re.S):
        rep = re.search(r'<h2 class="learn-rep">([^<]*)</h2>', block).group(1)
        ids = re.search(r'name="ids" value="([^"]*)"', block).group(1)
        found.append((rep, [int(i) for i in ids.split(",")]))
    return found
