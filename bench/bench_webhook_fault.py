"""Fault run: kill `fazhi serve` (SIGKILL) in the middle of a load and restart it.

    python bench/bench_webhook_fault.py [--residents 30] [--duration 45] [--embed-model hashing]

While the server is down WeChat's callbacks fail (the simulator retries, then gives up, as
WeChat does): those were never accepted.  Every message the server accepted before the
crash must still be answered (its lease expires and a worker re-answers it), and every
queued outbound message must be sent after the restart.  A custom/send outage overlapping
the crash leaves outbox rows pending at the moment of the kill.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _wechat_harness import (
    APP_ID,
    APP_SECRET,
    TOKEN,
    Server,
    Stats,
    db_counts,
    free_port,
    make_env,
    print_latency,
    reset_channel_tables,
    run_residents,
    wait_settled,
)

from api.wechat.models import InboundMessage
from api.wechat.testing import WeChatSimulator
from knowledge.db import make_engine


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=30)
    ap.add_argument("--duration", type=float, default=45.0)
    ap.add_argument("--kill-at", type=float, default=15.0)
    ap.add_argument("--down-for", type=float, default=2.0)
    ap.add_argument("--embed-model", default="hashing")
    ap.add_argument("--data-dir", default="", help="reuse a data dir (model and index built)")
    args = ap.parse_args()

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="fazhi-fault-"))
    reset_channel_tables(data_dir)
    port = free_port()
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", TOKEN, APP_ID, APP_SECRET).start()
    env = make_env(data_dir, sim.url, args.embed_model, {
        "FAZHI_WECHAT_RECOVER_AFTER_S": "5",  # re-answer a dead worker's messages after 5 s
        "FAZHI_WECHAT_REPLY_BUDGET_S": "0",  # every answer goes through the outbox
    })
    server = Server(data_dir, port, env)
    print(f"data dir {data_dir}; starting server …", flush=True)
    print(f"server healthy after {server.start():.1f} s", flush=True)
    events: dict[str, float] = {}

    def chaos() -> None:
        time.sleep(args.kill_at - 4)
        sim.state.inject("custom_send", http_status=503, count_=100_000)  # outbox piles up
        time.sleep(4)
        before = db_counts(data_dir)
        events["pending_at_kill"] = before.outbox_by_status.get("pending", 0) + \
            before.outbox_by_status.get("sending", 0)
        events["processing_at_kill"] = before.unanswered
        server.kill()
        events["killed"] = time.monotonic()
        time.sleep(args.down_for)
        sim.state.faults.clear()
        events["restart_s"] = server.start()
        events["up"] = time.monotonic()

    stats = Stats()
    chaos_thread = threading.Thread(target=chaos)
    chaos_thread.start()
    try:
        elapsed = run_residents(sim, args.residents, args.duration, stats)
        chaos_thread.join()
        counts = wait_settled(data_dir, timeout_s=180)
    finally:
        server.stop()
        sim.stop()

    engine = make_engine(f"sqlite:///{data_dir / 'fazhi.db'}")
    with engine.connect() as conn:
        stored = set(conn.scalars(select(InboundMessage.dedupe_key)))
    engine.dispose()
    print_latency(stats, elapsed)
    # Every callback answered with a 200 must be in the database.
    stored_ids = {k.rsplit(":", 1)[-1] for k in stored if k.startswith("msg:")}  # msg:openid:id
    missing = [k for k in stats.ok_keys if k not in stored_ids and k not in stored]
    print(f"killed at              {args.kill_at:.0f} s, down {events['up'] - events['killed']:.1f} s "
          f"(restart to healthy {events['restart_s']:.1f} s)")
    print(f"at the kill            {events['pending_at_kill']} outbox rows unsent, "
          f"{events['processing_at_kill']} inbound being answered")
    print(f"callbacks WeChat gave up on while down: {stats.undelivered}")
    print(f"stored inbound         {counts.inbound} (statuses {counts.by_status})")
    print(f"outbox final           {counts.outbox_by_status}")
    print(f"acknowledged, not stored {len(missing)}")
    print(f"duplicate answers      {counts.duplicate_answers}")
    lost = len(missing) + counts.unanswered + counts.answered_without_reply + \
        counts.outbox_by_status.get("pending", 0) + counts.outbox_by_status.get("sending", 0)
    print(f"lost after restart     {lost}")
    ok = lost == 0 and counts.duplicate_answers == 0
    print("RESULT", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
