"""A knowledge-base change reaches every serving process: two `fazhi serve` processes on one
PostgreSQL database, a change committed elsewhere (as another worker or `fazhi kb` makes it),
and both answer with it within 10 seconds, without a restart."""
from __future__ import annotations

import itertools
import time

import pytest

from api.wechat.testing import WeChatSimulator
from knowledge.db import make_engine
from knowledge.entry import EntryData
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import Kind, Status
from tests.api.wechat.test_serve import _env, _start, _stop
from tests.conftest import WX_APP_ID, WX_APP_SECRET, WX_TOKEN, _free_port
from tests.helpers import wait_until

QUESTION = "小区快递驿站把我的包裹弄丢了还不赔怎么办"
MARKER = "驿站丢件的赔偿可以按照快递服务合同主张"
NEW = EntryData(kind=Kind.FAQ, external_id="propagation-test", category="消费维权", question=QUESTION,
                answer=f"{MARKER}：先找快递公司协商赔偿；协商不成的，可以向邮政管理部门申诉。",
                status=Status.PUBLISHED)


def _ask(sim: WeChatSimulator, prefix: str) -> str:
    """The question from a new resident each time (a repeated message would be deduplicated)."""
    return sim.send_text(f"{prefix}_{next(_residents)}", QUESTION).reply or ""


_residents = itertools.count()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_change_on_the_database_reaches_two_serving_processes_within_ten_seconds(tmp_path, pg_url):
    ports = [_free_port(), _free_port()]
    sims = [WeChatSimulator(f"http://127.0.0.1:{p}/wechat", WX_TOKEN, WX_APP_ID, WX_APP_SECRET).start()
            for p in ports]
    procs = []
    try:
        for port, sim in zip(ports, sims):  # one after the other: the first seeds the database
            env = _env(tmp_path, sim.url, FAZHI_DATABASE_URL=pg_url, FAZHI_INDEX_SYNC_S="1")
            procs.append(_start(env, port, tmp_path / f"serve-{port}.log"))
        for n, sim in enumerate(sims):
            assert MARKER not in (sim.send_text(f"o_before_{n}", QUESTION).reply or "")

        store = KnowledgeStore(make_engine(pg_url))
        store.upsert(NEW, author="admin", reason="新增问答")
        changed = time.monotonic()

        for n, sim in enumerate(sims):
            wait_until(lambda sim=sim, n=n: MARKER in _ask(sim, f"o_after_{n}"),
                       timeout_s=10, what=f"the new answer on server {n + 1}")
        assert time.monotonic() - changed < 10
    finally:
        for proc in procs:
            _stop(proc)
        for sim in sims:
            sim.stop()
