"""The WeChat callback endpoint, ``/wechat``.

Order of checks (cheapest first, and nothing is revealed before authentication):
signature + timestamp -> body size -> content type -> UTF-8 -> safe XML -> decrypt ->
fields.  Each rejection is a specific exception mapped to a plain status code and a log
line; a valid message is stored before it is answered, then answered once.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Protocol

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.wechat.channel import Channel, Job
from api.wechat.protocol.crypto import CallbackAuthenticator, CallbackAuthError, CallbackParams
from api.wechat.protocol.xml import (
    BadMessage,
    WeChatMessage,
    decode_body,
    extract_encrypt,
    parse_message,
    render_text_reply,
)

log = logging.getLogger("fazhi.wechat.webhook")

XML_TYPES = ("text/xml", "application/xml", "text/plain", "")
SUCCESS = "success"  # WeChat's "received, no passive reply" answer


class BodyTooLarge(Exception):
    pass


class WrongContentType(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes; refuse early on a declared or actual larger body."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge(f"declared {declared} bytes")
        except ValueError:
            raise BodyTooLarge("bad content-length") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _reject(status: int, reason: str, request: Request, detail: str = "") -> Response:
    client = request.client.host if request.client else "?"
    log.warning("rejected %s /wechat from %s: %s %s", request.method, client, reason,
                detail[:200])
    body = {400: "bad request", 403: "forbidden", 413: "payload too large",
            415: "unsupported media type"}.get(status, "error")
    return PlainTextResponse(body, status_code=status)


class WebhookHandler:
    def __init__(self, channel: Channel, auth: CallbackAuthenticator, max_body: int,
                 budget_s: float) -> None:
        self.channel = channel
        self.auth = auth
        self.max_body = max_body
        self.budget_s = budget_s

    async def verify(self, request: Request) -> Response:
        params = CallbackParams.from_query(dict(request.query_params))
        try:
            self.auth.check(params)
        except CallbackAuthError as exc:
            return _reject(403, type(exc).__name__, request)
        if not params.echostr or len(params.echostr) > 256:
            return _reject(400, "missing echostr", request)
        return PlainTextResponse(params.echostr)

    async def receive(self, request: Request) -> Response:
        started = time.monotonic()
        params = CallbackParams.from_query(dict(request.query_params))
        try:
            self.auth.check(params)
            self.auth.require_encryption(params)
        except CallbackAuthError as exc:
            return _reject(403, type(exc).__name__, request)
        try:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype not in XML_TYPES:
                raise WrongContentType(ctype)
            body = await read_limited(request, self.max_body)
            text = decode_body(body)
            if params.encrypted:
                inner = self.auth.decrypt(params, extract_encrypt(text))
                msg = parse_message(inner)
            else:
                msg = parse_message(text)
        except BodyTooLarge as exc:
            return _reject(413, "body too large", request, str(exc))
        except WrongContentType as exc:
            return _reject(415, "content type", request, str(exc))
        except CallbackAuthError as exc:
            return _reject(403, type(exc).__name__, request)
        except BadMessage as exc:
            return _reject(400, exc.code, request, str(exc))

        accepted = await run_in_threadpool(self.channel.accept, msg)
        if accepted.duplicate:
            # A retry: the same passive reply if one was given, else "success" (the answer
            # is on its way through the outbox): never a second answer.
            previous = None
            if accepted.inbound_id is not None:
                previous = await run_in_threadpool(self.channel.outbox.passive_reply,
                                                   accepted.inbound_id)
            log.info("duplicate callback %s (inbound %s)", msg.dedupe_key, accepted.inbound_id)
            return self._reply(msg, params, previous)

        assert accepted.inbound_id is not None
        job = Job()
        future = self.channel.submit(accepted.inbound_id, job)
        remaining = self.budget_s - (time.monotonic() - started)
        if remaining > 0:
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), remaining)
            except Exception:  # the budget ran out, or the worker failed (it logs)
                pass
        text_reply = job.give_up()
        if text_reply is None:
            log.info("inbound %d: no passive reply within %.1f s, outbox delivers",
                     accepted.inbound_id, self.budget_s)
        return self._reply(msg, params, text_reply)

    def _reply(self, msg: WeChatMessage, params: CallbackParams, content: str | None) -> Response:
        if not content:
            return PlainTextResponse(SUCCESS)
        xml = render_text_reply(msg.from_user, msg.to_user, content)
        if params.encrypted:
            xml = self.auth.encrypt_reply(xml, secrets.token_hex(8), str(int(time.time())))
        return Response(xml, media_type="application/xml")


class CallbackEndpoints(Protocol):
    async def verify(self, request: Request) -> Response: ...

    async def receive(self, request: Request) -> Response: ...


def make_router(handler: CallbackEndpoints) -> APIRouter:
    router = APIRouter()
    router.add_api_route("/wechat", handler.verify, methods=["GET"], include_in_schema=False)
    router.add_api_route("/wechat", handler.receive, methods=["POST"], include_in_schema=False)
    return router
