"""Shared harness for the webhook benchmarks: a `fazhi serve` subprocess, the simulator,
simulated residents, and counting from the database."""
from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.wechat.models import InboundMessage, OutboxMessage  # noqa: E402
from api.wechat.testing import WeChatSimulator  # noqa: E402
from knowledge.db import make_engine  # noqa: E402

TOKEN = "bench_token_5d1e"
APP_ID = "wx_bench_app"
APP_SECRET = "bench_app_secret_value"

# A mix of what residents send: questions, follow-ups, choices, ratings, hand-offs, media.
QUESTIONS = [
    "公司拖欠工资怎么办", "房东不退押金怎么办", "上班途中出车祸算工伤吗", "离婚时孩子抚养权怎么确定",
    "借钱不还怎么起诉", "交通事故赔偿包括哪些项目", "怎样申请法律援助", "试用期被辞退有补偿吗",
    "公司不给交社保怎么办", "加班费怎么计算", "网购买到假货怎么维权", "物业费不交会怎样",
    "遗产怎么继承", "被人打伤了怎么索赔", "合同", "工资", "彩礼要退吗",
]
FOLLOWUPS = ["那赔偿怎么算？", "那要多久？", "如果对方不给呢", "需要什么证据？"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


@dataclass
class Server:
    data_dir: Path
    port: int
    env: dict
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 900) -> float:
        started = time.monotonic()
        self.log_path = self.data_dir / f"server-{int(time.time())}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError("server not healthy in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # a crash, not a graceful stop
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def make_env(data_dir: Path, sim_url: str, embed_model: str, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({
        "FAZHI_DATA_DIR": str(data_dir), "FAZHI_WECHAT_TOKEN": TOKEN, "FAZHI_WECHAT_APP_ID": APP_ID,
        "FAZHI_WECHAT_APP_SECRET": APP_SECRET, "FAZHI_WECHAT_API_BASE": sim_url,
        "FAZHI_WECHAT_AES_KEY": "", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
    })
    if embed_model:
        env["FAZHI_EMBED_MODEL"] = embed_model
    env.update(extra or {})
    return env


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # every webhook attempt, seconds
    statuses: dict[int | None, int] = field(default_factory=dict)
    sent: int = 0  # distinct messages sent
    delivered: int = 0  # WeChat considered answered (a 200)
    undelivered: int = 0  # all attempts failed (server down)
    passive: int = 0
    keys: set[str] = field(default_factory=set)
    ok_keys: set[str] = field(default_factory=set)  # WeChat got a 200 for these
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, delivery) -> None:  # api.wechat_sim.Delivery
        with self.lock:
            self.sent += 1
            self.keys.add(delivery.key)
            for a in delivery.attempts:
                self.latencies.append(a.elapsed_s)
                self.statuses[a.status] = self.statuses.get(a.status, 0) + 1
            if delivery.ok:
                self.delivered += 1
                self.ok_keys.add(delivery.key)
            else:
                self.undelivered += 1
            if delivery.reply:
                self.passive += 1


def resident_loop(sim: WeChatSimulator, openid: str, stop_at: float, stats: Stats,
                  rng: random.Random, think: tuple[float, float]) -> None:
    stats.add(sim.send_event(openid, "subscribe"))
    asked = False
    while time.monotonic() < stop_at:
        time.sleep(rng.uniform(*think))
        roll = rng.random()
        if roll < 0.55 or not asked:
            d = sim.send_text(openid, rng.choice(QUESTIONS))
            asked = True
        elif roll < 0.70:
            d = sim.send_text(openid, rng.choice(FOLLOWUPS))
        elif roll < 0.78:
            d = sim.send_text(openid, rng.choice(["1", "2", "5"]))
        elif roll < 0.83:
            d = sim.send("voice", openid, recognition=rng.choice(QUESTIONS))
        elif roll < 0.87:
            d = sim.send(rng.choice(["image", "location", "link"]), openid)
        elif roll < 0.90:
            d = sim.send_text(openid, "转人工")
        elif roll < 0.93:
            d = sim.send_event(openid, "CLICK", key=rng.choice(["MENU_FAQ", "MENU_MY_TICKETS"]))
        else:
            d = sim.send_text(openid, rng.choice(QUESTIONS) + "，" + "😀" * rng.randint(1, 30))
        stats.add(d)


def run_residents(sim: WeChatSimulator, n: int, duration_s: float, stats: Stats,
                  think: tuple[float, float] = (2.0, 5.0), seed: int = 7) -> float:
    stop_at = time.monotonic() + duration_s
    threads = [threading.Thread(target=resident_loop, daemon=True,
                                args=(sim, f"o_bench_{i:03d}", stop_at, stats,
                                      random.Random(seed + i), think)) for i in range(n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


@dataclass
class DbCounts:
    inbound: int
    by_status: dict[str, int]
    outbox_by_status: dict[str, int]
    duplicate_answers: int  # inbound messages with more than one first reply part
    answered_without_reply: int
    unanswered: int


def db_counts(data_dir: Path) -> DbCounts:
    engine = make_engine(f"sqlite:///{data_dir / 'fazhi.db'}")
    with engine.connect() as conn:
        inbound = conn.scalar(select(func.count()).select_from(InboundMessage)) or 0
        by_status = dict(conn.execute(select(InboundMessage.status, func.count())
                                      .group_by(InboundMessage.status)).all())
        outbox = dict(conn.execute(select(OutboxMessage.status, func.count())
                                   .group_by(OutboxMessage.status)).all())
        dup = conn.scalar(text("SELECT count(*) FROM (SELECT inbound_id FROM wx_outbox WHERE part=0 "
                               "GROUP BY inbound_id HAVING count(*) > 1)")) or 0
        silent = conn.scalar(text(
            "SELECT count(*) FROM wx_inbound i WHERE i.status='answered' AND i.msg_type!='event' "
            "AND NOT EXISTS (SELECT 1 FROM wx_outbox o WHERE o.inbound_id=i.id)")) or 0
    engine.dispose()
    return DbCounts(inbound, by_status, outbox, dup, silent, by_status.get("processing", 0))


CHANNEL_TABLES = ("wx_ticket_messages", "wx_tickets", "wx_ratings", "wx_conversations",
                  "wx_access_tokens", "wx_outbox", "wx_inbound")


def reset_channel_tables(data_dir: Path) -> None:
    """Reusing a prepared data dir (model and index built): start from an empty channel."""
    db = data_dir / "fazhi.db"
    if not db.exists():
        return
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type='table'")))
        for table in CHANNEL_TABLES:
            if table in names:
                conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def wait_settled(data_dir: Path, timeout_s: float = 120) -> DbCounts:
    deadline = time.monotonic() + timeout_s
    while True:
        counts = db_counts(data_dir)
        busy = counts.unanswered + counts.outbox_by_status.get("pending", 0) + \
            counts.outbox_by_status.get("sending", 0)
        if not busy or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def print_latency(stats: Stats, elapsed: float) -> None:
    lat = [x * 1000 for x in stats.latencies]
    five_xx = sum(c for s, c in stats.statuses.items() if s is not None and s >= 500)
    print(f"messages sent          {stats.sent} ({len(stats.keys)} distinct) in {elapsed:.1f} s")
    print(f"throughput             {stats.sent / elapsed:.1f} msg/s "
          f"({len(stats.latencies) / elapsed:.1f} webhook requests/s)")
    if lat:
        print(f"webhook latency (ms)   p50 {pct(lat, 50):.1f}  p95 {pct(lat, 95):.1f}  "
              f"p99 {pct(lat, 99):.1f}  max {max(lat):.1f}  mean {statistics.fmean(lat):.1f}")
    print(f"HTTP statuses          {dict(sorted(stats.statuses.items(), key=lambda kv: str(kv[0])))}")
    print(f"5xx responses          {five_xx}")
    print(f"passive replies        {stats.passive}")
