"""``fazhi user add/list/disable/unlock``: staff accounts from the command line.

A password is never taken from the command line (it would land in the shell history and
the process list): it is read from stdin with ``--password-stdin`` or prompted for.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from api.settings import Settings
from assistant.queue.staff import ROLE_LABELS, ROLES, Accounts, accounts_from_settings
from knowledge.db import make_engine, migrate


def _accounts(settings: Settings) -> Accounts:
    engine = make_engine(settings.storage.sqlalchemy_url)
    migrate(engine)
    return accounts_from_settings(engine, settings.staff)


def _split(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip() for part in value.replace("，", ",").replace("、", ",").split(",")
            if part.strip()]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise ValueError("两次输入的密码不一致")
    return first


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    staff = _accounts(settings).add(args.username, password, args.name, args.role,
                                    _split(args.categories), _split(args.regions))
    print(f"已创建{ROLE_LABELS[staff.role]}账号：{staff.username}（{staff.display_name}），编号 {staff.id}")
    return 0


def cmd_user_list(settings: Settings, args: argparse.Namespace) -> int:
    rows = _accounts(settings).list()
    for s in rows:
        state = "启用" if s.active else "停用"
        print(f"{s.id}\t{s.username}\t{s.display_name}\t{ROLE_LABELS[s.role]}\t{state}\t"
              f"{'、'.join(s.categories) or '-'}\t{'、'.join(s.regions) or '-'}")
    print(f"共 {len(rows)} 个账号", file=sys.stderr)
    return 0


def cmd_user_disable(settings: Settings, args: argparse.Namespace) -> int:
    staff = _accounts(settings).disable(args.username)
    print(f"已停用账号：{staff.username}（{staff.display_name}）")
    return 0


def cmd_user_unlock(settings: Settings, args: argparse.Namespace) -> int:
    staff = _accounts(settings).unlock(args.username)
    print(f"已解除锁定：{staff.username}（{staff.display_name}）")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # argparse's own type
    user = sub.add_parser("user", help="律师与管理员账号").add_subparsers(dest="action", required=True)
    # No abbreviations: "--password SECRET" must fail, not pass as --password-stdin.
    add = user.add_parser("add", help="新建账号（密码从终端输入，或用 --password-stdin 从标准输入读取）",
                          allow_abbrev=False)
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", required=True, help="显示名，如：张律师")
    add.add_argument("--categories", help="擅长分类，逗号分隔，如：劳动争议,工伤")
    add.add_argument("--regions", help="服务地区，逗号分隔，如：海淀区,朝阳区")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码")
    add.set_defaults(func=cmd_user_add)
    user.add_parser("list", help="列出账号").set_defaults(func=cmd_user_list)
    dis = user.add_parser("disable", help="停用账号（已登录的会话随即失效）")
    dis.add_argument("username")
    dis.set_defaults(func=cmd_user_disable)
    unl = user.add_parser("unlock", help="解除因密码错误次数过多造成的锁定")
    unl.add_argument("username")
    unl.set_defaults(func=cmd_user_unlock)
