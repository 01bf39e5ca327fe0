"""WeChat's side of the simulator: access tokens, the 48-hour window, injected faults and
what each resident received."""
from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import count

from wechatpy.utils import WeChatSigner

log = logging.getLogger("fazhi.wechat.sim")

TOKEN_TTL_S = 7200
OVERLAP_S = 300  # cgi-bin/token: the previous token stays valid 5 minutes
WINDOW_S = 48 * 3600
API_NAMES = ("token", "stable_token", "custom_send")
ERRMSG = {
    0: "ok", -1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid", 40013: "invalid appid", 40125: "invalid appsecret",
    42001: "access_token expired", 44002: "empty post data",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit", 47001: "data format error",
}


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


@dataclass
class Fault:
    errcode: int | None = None  # a WeChat error code in the JSON body
    http_status: int | None = None  # or an HTTP failure (outage)
    count: int = 1


@dataclass
class Attempt:
    status: int | None
    elapsed_s: float
    body: str = ""
    error: str = ""


@dataclass
class Delivery:
    """One callback as WeChat sent it, with every attempt and what the resident saw."""

    openid: str
    key: str
    attempts: list[Attempt] = field(default_factory=list)
    reply: str | None = None  # passive reply text shown to the resident
    ok: bool = False  # WeChat considered the callback answered
    error: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class SimState:
    """WeChat's server-side state, shared by the HTTP handler and the Python API."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.tokens: dict[str, float] = {}  # token -> expiry epoch
            self.stable: str | None = None  # current stable_token
            self.calls: dict[str, int] = defaultdict(int)
            self.faults: dict[str, list[Fault]] = defaultdict(list)
            self.delays: dict[str, float] = {}
            self.window: dict[str, float] = {}  # openid -> last interaction epoch
            self.transcripts: dict[str, list[dict]] = defaultdict(list)
            self.custom_sent: list[dict] = []
            self.seq = count(1)

    # -- faults -------------------------------------------------------------------
    def inject(self, api: str, errcode: int | None = None, http_status: int | None = None,
               count_: int = 1) -> None:
        if api not in API_NAMES:
            raise ValueError(f"unknown api {api!r}")
        with self.lock:
            self.faults[api].append(Fault(errcode, http_status, count_))

    def set_delay(self, api: str, seconds: float) -> None:
        with self.lock:
            self.delays[api] = seconds

    def expire_tokens(self) -> None:
        with self.lock:
            for tok in self.tokens:
                self.tokens[tok] = time.time() - 1

    def set_window(self, openid: str, open_: bool) -> None:
        with self.lock:
            if open_:
                self.window[openid] = time.time()
            else:
                self.window.pop(openid, None)

    def _take_fault(self, api: str) -> Fault | None:
        queue = self.faults.get(api)
        if not queue:
            return None
        fault = queue[0]
        fault.count -= 1
        if fault.count <= 0:
            queue.pop(0)
        return fault

    # -- API behaviour ----------------------------------------------------------------
    def _issue(self) -> str:
        token = hashlib.sha256(secrets.token_bytes(16)).hexdigest()[:64]
        self.tokens[token] = time.time() + TOKEN_TTL_S
        return token

    def handle_api(self, api: str, query: dict[str, str], body: dict) -> tuple[int, dict]:
        delay = self.delays.get(api, 0.0)
        if delay:
            time.sleep(delay)
        with self.lock:
            self.calls[api] += 1
            fault = self._take_fault(api)
            if fault is not None and fault.http_status:
                return fault.http_status, {"error": "unavailable"}
            if fault is not None and fault.errcode is not None:
                return 200, {"errcode": fault.errcode, "errmsg": ERRMSG.get(fault.errcode, "error")}
            return 200, getattr(self, f"_api_{api}")(query, body)

    def _credentials(self, appid: str, secret: str) -> dict | None:
        if appid != self.app_id:
            return {"errcode": 40013, "errmsg": ERRMSG[40013]}
        if secret != self.app_secret:
            return {"errcode": 40125, "errmsg": ERRMSG[40125]}
        return None

    def _api_token(self, query: dict[str, str], body: dict) -> dict:
        bad = self._credentials(query.get("appid", ""), query.get("secret", ""))
        if bad:
            return bad
        now = time.time()
        for tok, exp in self.tokens.items():  # the old token survives a 5-minute overlap
            self.tokens[tok] = min(exp, now + OVERLAP_S)
        return {"access_token": self._issue(), "expires_in": TOKEN_TTL_S}

    def _api_stable_token(self, query: dict[str, str], body: dict) -> dict:
        bad = self._credentials(str(body.get("appid", "")), str(body.get("secret", "")))
        if bad:
            return bad
        now = time.time()
        current = self.stable
        if body.get("force_refresh") or current is None or self.tokens.get(current, 0) <= now:
            if current is not None and body.get("force_refresh"):
                self.tokens.pop(current, None)  # forced refresh revokes the previous one
            self.stable = current = self._issue()
        return {"access_token": current, "expires_in": int(self.tokens[current] - now)}

    def _api_custom_send(self, query: dict[str, str], body: dict) -> dict:
        token = query.get("access_token", "")
        expiry = self.tokens.get(token)
        if expiry is None:
            return {"errcode": 40001, "errmsg": ERRMSG[40001]}
        if expiry <= time.time():
            return {"errcode": 42001, "errmsg": ERRMSG[42001]}
        openid = str(body.get("touser", ""))
        content = (body.get("text") or {}).get("content") if body.get("msgtype") == "text" else None
        if not openid or not isinstance(content, str):
            return {"errcode": 47001, "errmsg": ERRMSG[47001]}
        if len(content.encode("utf-8")) > 2048:
            return {"errcode": 45002, "errmsg": "content size out of limit"}
        last = self.window.get(openid)
        if last is None or time.time() - last > WINDOW_S:
            return {"errcode": 45015, "errmsg": ERRMSG[45015]}
        item = {"seq": next(self.seq), "openid": openid, "content": content, "kind": "custom",
                "at": time.time()}
        self.custom_sent.append(item)
        self.transcripts[openid].append(item)
        return {"errcode": 0, "errmsg": "ok"}

    def record_passive(self, openid: str, content: str) -> None:
        with self.lock:
            self.transcripts[openid].append({"seq": next(self.seq), "openid": openid,
                                             "content": content, "kind": "passive",
                                             "at": time.time()})

    def stats(self) -> dict:
        with self.lock:
            return {"calls": dict(self.calls), "custom_sent": len(self.custom_sent),
                    "residents": len(self.transcripts),
                    "faults": {k: [asdict(f) for f in v] for k, v in self.faults.items() if v}}


