"""``fazhi serve`` (the WeChat webhook and the console) and ``fazhi wechat-sim``."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from api.settings import Settings


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from api.app import ConfigError, serve

    try:
        serve(settings, args.host, args.port, args.workers, args.log_level)
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    return 0


def cmd_wechat_sim(settings: Settings, args: argparse.Namespace) -> int:
    from api.wechat.testing import run_simulator

    run_simulator(args.host, args.port, webhook_url=args.webhook, token=settings.wechat.wechat_token,
                  app_id=settings.wechat.wechat_app_id, app_secret=settings.wechat.wechat_app_secret,
                  aes_key=settings.wechat.wechat_aes_key,
                  mode=args.mode or ("safe" if settings.wechat.wechat_aes_key else "plain"))
    return 0


def add_parser(sub: Any) -> None:
    srv = sub.add_parser("serve", help="启动微信公众号服务（/wechat、/healthz）")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--workers", type=int, default=1)
    srv.add_argument("--log-level", default="info")
    srv.set_defaults(func=cmd_serve)
    sim = sub.add_parser("wechat-sim", help="本地微信模拟器（回调与接口），用于测试和演示")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8090)
    sim.add_argument("--webhook", default="http://127.0.0.1:8000/wechat", help="服务的回调地址")
    sim.add_argument("--mode", choices=["plain", "compat", "safe"],
                     help="默认：设置了 FAZHI_WECHAT_AES_KEY 时为 safe，否则 plain")
    sim.set_defaults(func=cmd_wechat_sim)
