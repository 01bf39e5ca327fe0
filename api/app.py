"""The web application: ``create_app(settings)`` and ``serve(settings, host, port)``.

The assistant, the database and the outbox dispatcher are set up in the lifespan, before
uvicorn accepts connections, so ``/healthz`` answers only once the service can answer.
"""
from __future__ import annotations

import logging
import logging.config
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import log_mask
from api.background import BackgroundLoop
from api.console.auth import WebAuth
from api.console.site import install_console
from api.settings import Settings
from api.wechat.access_token import AccessTokenManager, make_token_store
from api.wechat.channel import Channel
from api.wechat.outbox import Outbox, OutboxDelivery
from api.wechat.protocol.client import WeChatApi
from api.wechat.protocol.crypto import CallbackAuthenticator
from api.wechat.settings import WeChatSettings
from api.wechat.signals import ChannelSignals
from api.wechat.webhook import WebhookHandler, make_router
from assistant.alerts.history import AlertBoard
from assistant.alerts.loop import AlertMonitor
from assistant.dialogue.conversation import AssistantLike
from assistant.queue.desk import Desk
from assistant.queue.settings import QueuePolicy
from assistant.queue.staff import accounts_from_settings
from assistant.queue.staff_admin import StaffAdmin
from assistant.queue.sweep import OverdueSweeper
from assistant.tuning.regression import on_kb_change
from knowledge.db import make_engine, migrate
from knowledge.store import KnowledgeStore
from knowledge.workflow import Workflow

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


class KbSync:
    """Keeps this worker's search current with the knowledge base: the background loop
    polls (another worker or the command line may have changed it), and a change made here
    syncs at once.  Listeners (e.g. the regression set) hear of every change applied."""

    def __init__(self, assistant: AssistantLike) -> None:
        self._refresh: Callable[[], object] | None = getattr(assistant, "refresh", None)
        self.listeners: list[Callable[[object], object]] = []  # what they return is ignored
        self._lock = threading.Lock()
        self._notify_lock = threading.Lock()

    def step(self) -> bool:
        self.sync()
        return False  # then wait for the interval

    def sync(self) -> None:
        if self._refresh is None:
            return
        with self._lock:  # the loop and a request thread: one sync at a time
            result = self._refresh()
        if getattr(result, "changed", False) and self.listeners:
            # Off the request thread: a publish answers without waiting for its listeners.
            threading.Thread(target=self._notify, args=(result,), name="kb-listeners",
                             daemon=True).start()

    def _notify(self, result: object) -> None:
        with self._notify_lock:  # one change's listeners after another's
            for listener in self.listeners:
                try:
                    listener(result)
                except Exception:  # a listener's failure must not stop the others
                    log.exception("knowledge-base change listener failed")


class NoSniff:
    """``X-Content-Type-Options: nosniff`` on every response: JSON, static files, error
    answers and the webhook's, not only the console's pages (ASGI, so streams pass as
    they are)."""

    HEADER = (b"x-content-type-options", b"nosniff")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != self.HEADER[0]]
                message = {**message, "headers": [*headers, self.HEADER]}
            await send(message)

        await self.app(scope, receive, send_nosniff)


async def internal_error(_request: Request, _exc: Exception) -> Response:
    """The last-resort 500: Starlette sends it from outside every middleware, so it sets
    ``nosniff`` itself; the exception is still logged by the server."""
    return Response("服务暂时出现问题，请稍后再试。", status_code=500, media_type="text/plain; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff"})


def check_settings(settings: WeChatSettings) -> None:
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
    if settings.index.embed_threads:
        return settings
    share = max(1, (os.cpu_count() or 1) // max(1, settings.wechat.wechat_answer_workers))
    index = settings.index.model_copy(update={"embed_threads": share})
    return settings.model_copy(update={"index": index})


def _default_assistant(settings: Settings) -> AssistantLike:
    from assistant.service import open_assistant  # heavy import, on demand

    return open_assistant(server_settings(settings), progress=lambda m: log.info("%s", m),
                          show_progress=False)


def _wechat_client(wx: WeChatSettings, engine: Engine) -> tuple[WeChatApi | None,
                                                                AccessTokenManager | None]:
    if not (wx.wechat_app_id and wx.wechat_app_secret):
        log.warning("no app id/secret: replies can only be passive, the outbox will wait")
        return None, None
    api = WeChatApi(wx.wechat_api_base, wx.wechat_app_id, wx.wechat_app_secret,
                    wx.wechat_http_timeout_s)
    tokens = AccessTokenManager(make_token_store(engine, wx.wechat_app_id, wx.redis_url), api,
                                margin_s=wx.wechat_token_refresh_margin_s)
    return api, tokens


def create_app(settings: Settings, assistant: AssistantLike | None = None,
               assistant_factory: Callable[[Settings], AssistantLike] | None = None) -> FastAPI:
    """The FastAPI app; pass ``assistant`` to share an already loaded one (tests)."""
    wx = settings.wechat
    check_settings(wx)
    state: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        asst = assistant or (assistant_factory or _default_assistant)(settings)
        engine = make_engine(settings.storage.sqlalchemy_url)
        migrate(engine)  # no-op when open_assistant already did it
        api, tokens = _wechat_client(wx, engine)
        outbox = Outbox(engine, api, tokens, wx.wechat_outbox_max_attempts,
                        wx.wechat_outbox_backoff_s, wx.wechat_outbox_poll_s)
        channel = Channel(wx, engine, asst, outbox, QueuePolicy.from_settings(settings.queue))
        outbox.on_idle = channel.recover_stale
        auth = CallbackAuthenticator(wx.wechat_token, wx.wechat_app_id, wx.wechat_aes_key,
                                     wx.wechat_timestamp_tolerance_s)
        handler.target = WebhookHandler(channel, auth, wx.wechat_max_body_bytes,
                                        wx.wechat_reply_budget_s)
        state["runtime"] = Runtime(settings, channel, outbox, tokens)
        app.state.runtime = state["runtime"]
        app.state.desk = Desk(engine, settings.queue, OutboxDelivery(outbox))
        app.state.accounts = accounts_from_settings(engine, settings.staff)
        app.state.web_auth = WebAuth(engine, app.state.accounts, settings.console)
        app.state.staff_admin = StaffAdmin(engine, app.state.accounts)
        app.state.engine, app.state.settings, app.state.assistant = engine, settings, asst
        # The knowledge base the assistant answers from (one database when serving).
        app.state.store = getattr(asst, "store", None) or KnowledgeStore(engine)
        app.state.workflow = Workflow(app.state.store, settings.knowledge)
        # Early warning: the rules in their own loop; the console banner reads the episodes.
        log_mask.register_secret(settings.alerts.alert_smtp_password)
        alerts = AlertMonitor(engine, settings.alerts, webhook_url=settings.queue.alert_webhook_url,
                              webhook_timeout_s=settings.queue.alert_timeout_s,
                              channel=ChannelSignals())
        app.state.alert_monitor, app.state.alert_board = alerts, AlertBoard(engine)
        alert_loop = BackgroundLoop("alert-monitor", alerts.step, alerts.interval_s)
        alert_loop.start()
        # tuning: thresholds saved in the database, followed by this worker without a restart.
        from assistant.tuning.thresholds import ThresholdSync

        app.state.threshold_sync = thresholds = ThresholdSync(engine, asst)
        thresholds.apply()
        threshold_loop = BackgroundLoop("threshold-sync", thresholds.step, thresholds.interval_s)
        threshold_loop.start()
        # Retention: conversation text older than FAZHI_RETENTION_DAYS is deleted, figures stay.
        from assistant.learning.groups import question_vector_files
        from assistant.privacy.retention import Retention

        retention = Retention(engine, settings.privacy,
                              lambda: question_vector_files(settings.storage.cache_dir))
        purge_loop = BackgroundLoop("retention-purge", retention.step,
                                    settings.privacy.retention_check_s)
        purge_loop.start()
        sweeper = OverdueSweeper(engine, settings.queue)

        def sweep_step() -> bool:
            sweeper.sweep_once()
            return False  # then wait for the interval

        sweep = BackgroundLoop("overdue-sweeper", sweep_step, sweeper.interval_s)
        kb = KbSync(asst)
        app.state.kb_sync = kb
        # The regression set runs after every change this worker applies (once per revision).
        kb.listeners.append(lambda _r: on_kb_change(engine, asst, app.state.store))
        kb_loop = BackgroundLoop("kb-sync", kb.step, settings.index.index_sync_s)
        outbox.start()
        sweep.start()
        kb_loop.start()
        log.info("wechat channel ready (%s mode)", "safe" if auth.safe_mode else "plaintext")
        try:
            yield
        finally:
            sweeper.interrupt()
            sweep.stop()
            kb_loop.stop()
            threshold_loop.stop()  # tuning
            purge_loop.stop()  # retention
            sweeper.close()
            outbox.stop()
            channel.close()
            if api is not None:
                api.close()
            alerts.interrupt()
            alert_loop.stop()
            alerts.close()
            engine.dispose()

    app = FastAPI(title="fazhi", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(NoSniff)
    app.add_exception_handler(Exception, internal_error)
    handler = _LateHandler()
    app.include_router(make_router(handler))
    install_console(app)  # /login, /lawyer/, /admin/, /static/

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        runtime = state.get("runtime")
        if runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        try:
            runtime.channel.ping()
        except Exception:
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
    import uvicorn

    log_config = log_mask.logging_config(log_level)  # uvicorn applies it in each worker
    logging.config.dictConfig(log_config)
    check_settings(settings.wechat)
    if workers > 1:
        # Initialise the data dir (schema, seed, model, index) once, here, so that the
        # workers only load it instead of racing to build it.  Each worker then builds its
        # own app from the environment (FAZHI_*); the database (or Redis) is what they
        # share: dedupe keys, the access token, the outbox.
        _default_assistant(settings)
        uvicorn.run("api.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level=log_level, log_config=log_config,
                    timeout_graceful_shutdown=5)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                log_config=log_config, timeout_graceful_shutdown=5)
