"""Load test: N simulated residents against `fazhi serve` (a subprocess) on loopback.

    python bench/bench_webhook_load.py [--residents 50] [--duration 60] [--embed-model hashing]

Prints p50/p95/p99 webhook latency, throughput, 5xx count, and from the database: messages
stored, duplicate answers, messages left unanswered (lost).  The default embed model is
the product's default (the embedded e5-small); ``--embed-model hashing`` is much cheaper.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _wechat_harness import (
    APP_ID,
    APP_SECRET,
    TOKEN,
    Server,
    Stats,
    free_port,
    make_env,
    pct,
    print_latency,
    reset_channel_tables,
    run_residents,
    wait_settled,
)

from api.wechat.testing import WeChatSimulator


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--embed-model", default="")
    ap.add_argument("--data-dir", default="", help="reuse a data dir (model and index built)")
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 5.0))
    args = ap.parse_args()

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="fazhi-bench-"))
    reset_channel_tables(data_dir)  # a reused data dir keeps its model and index only
    port = free_port()
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", TOKEN, APP_ID, APP_SECRET).start()
    server = Server(data_dir, port, make_env(data_dir, sim.url, args.embed_model))
    print(f"data dir {data_dir}; starting fazhi serve on :{port} …", flush=True)
    ready = server.start()
    print(f"server healthy after {ready:.1f} s", flush=True)
    try:
        stats = Stats()
        elapsed = run_residents(sim, args.residents, args.duration, stats, tuple(args.think))
        counts = wait_settled(data_dir)
    finally:
        server.stop()
        sim.stop()
    print_latency(stats, elapsed)
    lost = counts.unanswered + stats.undelivered + counts.answered_without_reply + \
        max(0, len(stats.keys) - counts.inbound)
    print(f"stored inbound         {counts.inbound} (statuses {counts.by_status})")
    print(f"outbox                 {counts.outbox_by_status}")
    print(f"custom messages seen   {len(sim.state.custom_sent)} by residents")
    print(f"duplicate answers      {counts.duplicate_answers}")
    print(f"lost messages          {lost}")
    p99 = pct(stats.latencies, 99) if stats.latencies else 0.0
    five_xx = sum(c for s, c in stats.statuses.items() if s is not None and s >= 500)
    ok = p99 < 1.0 and five_xx == 0 and counts.duplicate_answers == 0 and lost == 0
    print("RESULT", "PASS" if ok else "FAIL", f"(p99 {p99 * 1000:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
