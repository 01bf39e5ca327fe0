"""A WeChat simulator: a real HTTP server on loopback that plays WeChat's side.

* Callbacks: sends signed (and in safe/compatible mode encrypted) XML to the webhook the way
  WeChat does: 5-second timeout, 3 attempts in all, and reads the passive reply.
* API: serves ``cgi-bin/token``, ``cgi-bin/stable_token`` and ``cgi-bin/message/custom/send``
  with WeChat's error codes (40001, 42001, 40013, 40125, 45015, 45047, -1 ...).
* Control endpoints under ``/_sim/`` (and the same methods in Python) inject faults: expired
  tokens, an error code for the next N calls, slow responses, outages (HTTP 503).

Crypto is wechatpy's own (``WeChatCrypto``, ``WeChatSigner``), as on the server side.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlparse

import httpx
from wechatpy.crypto import WeChatCrypto

from api.wechat.protocol.xml import event_dedupe_key, parse_xml, render_message, top_fields
from api.wechat.settings import WeChatSettings
from api.wechat.testing.state import ERRMSG, Attempt, Delivery, SimState, sign

log = logging.getLogger("fazhi.wechat.sim")

class _Handler(BaseHTTPRequestHandler):
    server: _SimServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args) -> None:  # quiet by default
        log.debug("sim: " + fmt, *args)

    def _json(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
            return data if isinstance(data, dict) else {}
        except (ValueError, UnicodeDecodeError):
            return {"__invalid__": True}

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._body() if method == "POST" else {}
        sim = self.server.sim
        api = {"/cgi-bin/token": "token", "/cgi-bin/stable_token": "stable_token",
               "/cgi-bin/message/custom/send": "custom_send"}.get(url.path)
        if api is not None:
            if body.get("__invalid__"):
                self._json(200, {"errcode": 47001, "errmsg": ERRMSG[47001]})
                return
            status, payload = sim.state.handle_api(api, query, body)
            self._json(status, payload)
            return
        try:
            self._json(200, sim.control(method, url.path, query, body))
        except KeyError:
            self._json(404, {"error": "not found"})
        except (ValueError, TypeError) as exc:
            self._json(400, {"error": str(exc)})


class _SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: WeChatSimulator

    def handle_error(self, request, client_address) -> None:
        # A client that vanished mid-request (a killed server's outbox) is routine here.
        log.debug("sim: connection from %s failed", client_address, exc_info=True)


class WeChatSimulator:
    def __init__(self, webhook_url: str, token: str, app_id: str, app_secret: str,
                 aes_key: str = "", mode: str = "plain", callback_timeout_s: float = 5.0,
                 attempts: int = 3, account: str = "gh_fazhi_sim") -> None:
        if mode not in ("plain", "compat", "safe"):
            raise ValueError("mode must be plain, compat or safe")
        if mode != "plain" and not aes_key:
            raise ValueError(f"{mode} mode needs an AES key")
        self.webhook_url = webhook_url
        self.token = token
        self.app_id = app_id
        self.mode = mode
        self.callback_timeout_s = callback_timeout_s
        self.attempts = attempts
        self.account = account
        self.state = SimState(app_id, app_secret)
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self._msg_ids = count(int(time.time() * 1000) * 1000 + secrets.randbelow(1000))
        self._server: _SimServer | None = None
        self._thread: threading.Thread | None = None
        self._client = httpx.Client()

    # -- server lifecycle -------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> WeChatSimulator:
        self._server = _SimServer((host, port), _Handler)
        self._server.sim = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-sim",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, host: str, port: int) -> None:
        self._server = _SimServer((host, port), _Handler)
        self._server.sim = self
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._client.close()

    @property
    def url(self) -> str:
        assert self._server is not None, "simulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- control (HTTP /_sim/... and Python) ---------------------------------------------
    def control(self, method: str, path: str, query: dict, body: dict) -> dict:
        st = self.state
        if path == "/_sim/stats":
            return st.stats()
        if path == "/_sim/transcript":
            return {"openid": query.get("openid", ""), "messages": self.transcript(query["openid"])}
        if method != "POST":
            raise KeyError(path)
        if path == "/_sim/reset":
            st.reset()
        elif path == "/_sim/fault":
            st.inject(body["api"], body.get("errcode"), body.get("http_status"),
                      int(body.get("count", 1)))
        elif path == "/_sim/delay":
            st.set_delay(body["api"], float(body["seconds"]))
        elif path == "/_sim/expire_tokens":
            st.expire_tokens()
        elif path == "/_sim/window":
            st.set_window(body["openid"], bool(body.get("open", True)))
        elif path == "/_sim/send":
            kind = body.pop("type", "text")
            return self.send(kind, **body).to_dict()
        else:
            raise KeyError(path)
        return {"ok": True}

    def transcript(self, openid: str) -> list[dict]:
        with self.state.lock:
            return list(self.state.transcripts.get(openid, []))

    def texts(self, openid: str) -> list[str]:
        return [m["content"] for m in self.transcript(openid)]

    def wait_for(self, openid: str, n: int, timeout_s: float = 30.0) -> list[str]:
        """Wait until the resident has seen at least ``n`` messages (passive + custom)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            texts = self.texts(openid)
            if len(texts) >= n:
                return texts
            time.sleep(0.02)
        return self.texts(openid)

    # -- callbacks (WeChat -> webhook) ----------------------------------------------------
    def message_fields(self, kind: str, openid: str, content: str = "", **extra: str) -> dict:
        now = str(int(time.time()))
        fields: dict[str, str] = {"ToUserName": self.account, "FromUserName": openid,
                                  "CreateTime": now}
        if kind == "event":
            fields["MsgType"] = "event"
            fields["Event"] = extra.pop("event", "subscribe")
            if "key" in extra:
                fields["EventKey"] = extra.pop("key")
        else:
            fields["MsgType"] = kind
            if kind == "text":
                fields["Content"] = content
            elif kind == "voice":
                fields["MediaId"] = extra.pop("media_id", "media_" + secrets.token_hex(4))
                fields["Format"] = "amr"
                if "recognition" in extra:
                    fields["Recognition"] = extra.pop("recognition")
            elif kind == "image":
                fields["PicUrl"] = "http://mmbiz.qpic.cn/sim.jpg"
                fields["MediaId"] = "media_" + secrets.token_hex(4)
            elif kind == "location":
                fields.update({"Location_X": "23.134521", "Location_Y": "113.358803",
                               "Scale": "20", "Label": extra.pop("label", "广州市天河区")})
            elif kind == "link":
                fields.update({"Title": extra.pop("title", "一篇文章"), "Description": "描述",
                               "Url": extra.pop("link", "https://example.com/a")})
            elif kind in ("video", "shortvideo"):
                fields.update({"MediaId": "media_" + secrets.token_hex(4),
                               "ThumbMediaId": "thumb_" + secrets.token_hex(4)})
            fields["MsgId"] = str(extra.pop("msg_id", None) or next(self._msg_ids))
        fields.update({k: str(v) for k, v in extra.items()})
        return fields

    def send(self, kind: str = "text", openid: str = "", content: str = "",
             **extra: str) -> Delivery:
        fields = self.message_fields(kind, openid or "o_sim_resident", content, **extra)
        return self.deliver(fields)

    def send_text(self, openid: str, content: str, **extra: str) -> Delivery:
        return self.send("text", openid, content, **extra)

    def send_event(self, openid: str, event: str, key: str | None = None) -> Delivery:
        extra = {"event": event}
        if key is not None:
            extra["key"] = key
        return self.send("event", openid, **extra)

    def signed_request(self, fields: dict, timestamp: str | None = None,
                       nonce: str | None = None) -> tuple[dict[str, str], bytes]:
        """The query string and body WeChat would POST for ``fields``."""
        plain = render_message(fields)
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": fields.get("FromUserName", "")}
        if self.mode == "plain":
            return query, plain.encode("utf-8")
        assert self._crypto is not None
        encrypted = top_fields(parse_xml(self._crypto.encrypt_message(plain, nonce, timestamp)))
        query.update({"encrypt_type": "aes", "msg_signature": encrypted["MsgSignature"]})
        if self.mode == "safe":
            body = ("<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{}]]>"
                    "</Encrypt></xml>").format(fields["ToUserName"], encrypted["Encrypt"])
        else:  # compatible: plaintext fields and the ciphertext side by side
            body = plain[:-len("</xml>")] + f"<Encrypt><![CDATA[{encrypted['Encrypt']}]]></Encrypt></xml>"
        return query, body.encode("utf-8")

    def deliver(self, fields: dict, attempts: int | None = None,
                timeout_s: float | None = None) -> Delivery:
        """POST like WeChat: the same message again on timeout or failure, 3 attempts."""
        openid = fields.get("FromUserName", "")
        if fields.get("MsgType") == "event" and fields.get("Event") == "unsubscribe":
            self.state.set_window(openid, False)
        else:
            self.state.set_window(openid, True)  # the resident's message opens the window
        key = fields.get("MsgId") or event_dedupe_key(
            openid, fields.get("CreateTime", ""), fields.get("Event", ""),
            fields.get("EventKey", ""))
        delivery = Delivery(openid=openid, key=key)
        timeout = self.callback_timeout_s if timeout_s is None else timeout_s
        for _ in range(attempts or self.attempts):
            query, body = self.signed_request(fields)  # each retry is signed afresh
            started = time.monotonic()
            try:
                resp = self._client.post(self.webhook_url, params=query, content=body,
                                         headers={"Content-Type": "text/xml"}, timeout=timeout)
            except httpx.HTTPError as exc:
                delivery.attempts.append(Attempt(None, time.monotonic() - started,
                                                 error=type(exc).__name__))
                continue
            attempt = Attempt(resp.status_code, time.monotonic() - started, resp.text[:4096])
            delivery.attempts.append(attempt)
            if resp.status_code != 200:
                continue
            delivery.ok = True
            text = resp.text.strip()
            if text in ("", "success"):
                break
            try:
                delivery.reply = self.read_reply(text, openid)
                self.state.record_passive(openid, delivery.reply)
            except Exception as exc:  # WeChat shows "暂时无法提供服务"
                delivery.ok = False
                delivery.error = f"invalid passive reply: {type(exc).__name__}: {exc}"
            break
        return delivery

    def read_reply(self, text: str, openid: str) -> str:
        fields = top_fields(parse_xml(text))
        if "Encrypt" in fields:
            if self._crypto is None:
                raise ValueError("encrypted reply in plaintext mode")
            fields = top_fields(parse_xml(self._crypto.decrypt_message(
                {"Encrypt": fields["Encrypt"]}, fields["MsgSignature"], fields["TimeStamp"],
                fields["Nonce"])))
        elif self.mode == "safe":
            raise ValueError("plaintext reply in safe mode")
        if fields.get("ToUserName") != openid or fields.get("MsgType") != "text":
            raise ValueError("reply addressed wrongly or not text")
        content = fields.get("Content", "")
        if len(content.encode("utf-8")) > 2048:
            raise ValueError("passive reply longer than 2048 bytes")
        return content

    def verify_url(self, echostr: str = "sim_echo_123", timestamp: str | None = None) -> httpx.Response:
        timestamp = timestamp or str(int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        return self._client.get(self.webhook_url, params={
            "signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
            "nonce": nonce, "echostr": echostr}, timeout=self.callback_timeout_s)


def parse_reply_fields(text: str) -> dict[str, str]:
    """Top-level fields of a (plaintext) passive reply."""
    return top_fields(parse_xml(text))


def simulator_for(settings: WeChatSettings, webhook_url: str, mode: str | None = None,
                  callback_timeout_s: float = 5.0) -> WeChatSimulator:
    """A simulator matching the channel's settings (token, app id/secret, AES key -> safe mode)."""
    mode = mode or ("safe" if settings.wechat_aes_key else "plain")
    return WeChatSimulator(webhook_url, settings.wechat_token, settings.wechat_app_id,
                           settings.wechat_app_secret, settings.wechat_aes_key, mode,
                           callback_timeout_s)


def run_simulator(host: str = "127.0.0.1", port: int = 8090, *,
                  webhook_url: str = "http://127.0.0.1:8080/wechat", token: str = "",
                  app_id: str = "", app_secret: str = "", aes_key: str = "", mode: str = "plain",
                  callback_timeout_s: float = 5.0) -> None:
    """``fazhi wechat-sim``: serve the simulator until interrupted.

    Point the service at it with ``FAZHI_WECHAT_API_BASE=http://HOST:PORT``; drive it with
    POST /_sim/send {"openid": "...", "type": "text", "content": "..."} and the other
    /_sim/ endpoints (fault, delay, expire_tokens, window, transcript, stats, reset).
    """
    sim = WeChatSimulator(webhook_url, token, app_id, app_secret, aes_key, mode,
                          callback_timeout_s)
    print(f"WeChat simulator on http://{host}:{port} -> {webhook_url} ({mode} mode)", flush=True)
    try:
        sim.serve_forever(host, port)
    except KeyboardInterrupt:
        pass
