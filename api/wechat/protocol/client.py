"""The subset of the WeChat server API we call, with WeChat's error codes as exceptions."""
from __future__ import annotations

import json
import logging

import httpx

log = logging.getLogger("fazhi.wechat.api")

# WeChat's documented error codes that change what we do.
INVALID_CREDENTIAL = 40001  # token invalid (e.g. replaced by a forced refresh)
TOKEN_EXPIRED = 42001
OUT_OF_WINDOW = 45015  # resident has not written in 48 h, or unsubscribed
QUOTA_EXCEEDED = 45047  # too many custom messages without a resident reply
SYSTEM_BUSY = -1
TOKEN_ERRORS = frozenset({INVALID_CREDENTIAL, TOKEN_EXPIRED, 40014})
HOLD_ERRORS = frozenset({OUT_OF_WINDOW, QUOTA_EXCEEDED})


class WeChatApiError(Exception):
    """WeChat answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(Exception):
    """Network failure, timeout or a non-200 HTTP status: retry later."""


class WeChatApi:
    def __init__(self, base_url: str, app_id: str, app_secret: str,
                 timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self._client = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, *, params: dict | None = None,
              body: dict | None = None) -> dict:
        url = f"{self.base_url}{path}"
        try:
            if method == "GET":
                resp = self._client.get(url, params=params)
            else:
                # WeChat wants raw UTF-8 JSON, not \u escapes (they count against limits).
                resp = self._client.post(url, params=params, content=json.dumps(
                    body, ensure_ascii=False).encode("utf-8"),
                    headers={"Content-Type": "application/json; charset=utf-8"})
        except httpx.HTTPError as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise WeChatUnavailable(f"{path}: HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise WeChatUnavailable(f"{path}: response is not JSON") from None
        errcode = int(data.get("errcode", 0) or 0)
        if errcode:
            raise WeChatApiError(errcode, str(data.get("errmsg", ""))[:200])
        return data

    def stable_token(self, force_refresh: bool = False) -> tuple[str, int]:
        """cgi-bin/stable_token: unlike cgi-bin/token, it does not invalidate the old token."""
        data = self._call("POST", "/cgi-bin/stable_token", body={
            "grant_type": "client_credential", "appid": self.app_id, "secret": self._secret,
            "force_refresh": force_refresh})
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    def custom_send_text(self, access_token: str, openid: str, content: str) -> None:
        self._call("POST", "/cgi-bin/message/custom/send", params={"access_token": access_token},
                   body={"touser": openid, "msgtype": "text", "text": {"content": content}})
