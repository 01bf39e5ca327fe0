"""The web application: ``create_app(settings)`` and ``serve(settings, host, port)``.

The assistant, the database and the outbox dispatcher are set up in the lifespan, before
uvicorn accepts connections, so ``/healthz`` answers only once the service can answer.
"""
from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from api import log_mask
from api.wechat.access_token import AccessTokenManager, make_token_store
from assistant.queue.staff import accounts_from_settings
from assistant.queue.sweep import OverdueSweeper
from api.wechat.channel import Channel
from api.console.routes.lawyer import install_console
from assistant.queue.desk import Desk
from api.wechat.outbox import Outbox
from api.console.auth import WebAuth
from api.wechat.webhook import WebhookHandler, make_router
from api.wechat.protocol.client import WeChatApi
from api.wechat.protocol.crypto import CallbackAuthenticator
from knowledge.db import make_engine, migrate
from knowledge.settings import Settings

log = logging.getLogger("fazhi.wechat.app")


class ConfigError(Exception):
    """The WeChat settings are incomplete."""


@dataclass
class Runtime:
    """What one worker process holds while it serves."""

    settings: Settings
    channel: Channel
    outbox: Outbox
    tokens: AccessTokenManager | None


def check_settings(settings: Settings) -> None:
    if not settings.wechat_token:
        raise ConfigError("FAZHI_WECHAT_TOKEN is not set")
    if settings.wechat_aes_key and len(settings.wechat_aes_key) != 43:
        raise ConfigError("FAZHI_WECHAT_AES_KEY must be 43 characters (or empty for plaintext)")
    for secret in (settings.wechat_token, settings.wechat_app_secret, settings.wechat_aes_key):
        log_mask.register_secret(secret)


def server_settings(settings: Settings) -> Settings:
    """Settings for a serving process.  Answers are computed by several worker threads at
    once; if each torch call also spreads over every core, they fight for the CPU and tail
    latency doubles (measured: p99 1.5 s vs 0.6 s with 2 cores, 50 residents).  So unless
    configured, each torch call gets its share of the cores."""
    if settings.embed_threads:
        return settings
    share = max(1, (os.cpu_count() or 1) // max(1, settings.wechat_answer_workers))
    return settings.model_copy(update={"embed_threads": share})


def _default_assistant(settings: Settings):  # noqa: ANN202 - assistant.service.Assistant
    from assistant.service import open_assistant  # noqa: PLC0415 - heavy import, on demand

    return open_assistant(server_settings(settings), progress=lambda m: log.info("%s", m),
                          show_progress=False)


def create_app(settings: Settings, assistant=None,  # noqa: ANN001 - Assistant or alike
               assistant_factory: Callable[[Settings], object] | None = None) -> FastAPI:
    """The FastAPI app; pass ``assistant`` to share an already loaded one (tests)."""
    check_settings(settings)
    log_mask.install()
    state: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        asst = assistant or (assistant_factory or _default_assistant)(settings)
        engine = make_engine(settings.sqlalchemy_url)
        migrate(engine)  # no-op when open_assistant already did it
        api, tokens = None, None
        if settings.wechat_app_id and settings.wechat_app_secret:
            api = WeChatApi(settings.wechat_api_base, settings.wechat_app_id,
                            settings.wechat_app_secret, settings.wechat_http_timeout_s)
            tokens = AccessTokenManager(
                make_token_store(engine, settings.wechat_app_id, settings.redis_url), api,
                margin_s=settings.wechat_token_refresh_margin_s)
        else:
            log.warning("no app id/secret: replies can only be passive, the outbox will wait")
        outbox = Outbox(engine, api, tokens, settings.wechat_outbox_max_attempts,
                        settings.wechat_outbox_backoff_s, settings.wechat_outbox_poll_s)
        channel = Channel(settings, engine, asst, outbox)
        outbox.on_idle = channel.recover_stale
        auth = CallbackAuthenticator(settings.wechat_token, settings.wechat_app_id,
                                     settings.wechat_aes_key,
                                     settings.wechat_timestamp_tolerance_s)
        handler.target = WebhookHandler(channel, auth, settings.wechat_max_body_bytes,
                                        settings.wechat_reply_budget_s)
        state["runtime"] = Runtime(settings, channel, outbox, tokens)
        app.state.runtime = state["runtime"]
        app.state.desk = Desk(engine, settings, outbox)  # the lawyer console's queue
        app.state.accounts = accounts_from_settings(engine, settings)
        app.state.web_auth = WebAuth(engine, app.state.accounts, settings)
        sweeper = OverdueSweeper(engine, settings)
        outbox.start()
        sweeper.start()
        log.info("wechat channel ready (%s mode)", "safe" if auth.safe_mode else "plaintext")
        try:
            yield
        finally:
            sweeper.stop()
            outbox.stop()
            channel.close()
            if api is not None:
                api.close()
            engine.dispose()

    app = FastAPI(title="fazhi", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    handler = _LateHandler()
    app.include_router(make_router(handler))  # type: ignore[arg-type]
    install_console(app)  # /login, /lawyer/, /admin/, /static/

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        runtime = state.get("runtime")
        if runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        try:
            with runtime.channel._sessions() as s:  # noqa: SLF001 - a cheap liveness probe
                s.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


class _LateHandler:
    """Routes are declared before the lifespan builds the real handler."""

    target: WebhookHandler | None = None

    async def verify(self, request: Request) -> Response:
        assert self.target is not None
        return await self.target.verify(request)

    async def receive(self, request: Request) -> Response:
        assert self.target is not None
        return await self.target.receive(request)


def app_from_env() -> FastAPI:
    """uvicorn factory for multi-worker serving: each worker reads the environment."""
    return create_app(Settings())


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          log_level: str = "info") -> None:
    """Run the webhook with uvicorn (``fazhi serve``).  Blocks until interrupted."""
    import uvicorn  # noqa: PLC0415

    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_settings(settings)
    if workers > 1:
        # Initialise the data dir (schema, seed, model, index) once, here, so that the
        # workers only load it instead of racing to build it.  Each worker then builds its
        # own app from the environment (FAZHI_*); the database (or Redis) is what they
        # share: dedupe keys, the access token, the outbox.
        _default_assistant(settings)
        uvicorn.run("api.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level=log_level, timeout_graceful_shutdown=5)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                timeout_graceful_shutdown=5)
