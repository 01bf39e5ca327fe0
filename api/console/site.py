"""Installing the console on the app: its templates, routes, static files and error pages."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.console.auth import CsrfRejected, Forbidden, NotSignedIn, login_redirect_target, wants_html
from api.console.render import HERE, make_templates, render
from api.console.routes import admin, alerts, auth, dashboard, kb, lawyer, learning, roster, tuning, users


def _error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    if not wants_html(request):
        return JSONResponse({"error": message}, status_code=status_code)
    # The flash stays for the next real page (and no database work on the event loop here).
    principal = getattr(request.state, "principal", None)
    return render(request, "error.html", {"title": title, "message": message}, principal,
                  status_code=status_code, take_flash=False)


async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
    if wants_html(request):
        return RedirectResponse(login_redirect_target(request), status_code=303)
    return JSONResponse({"error": "请先登录"}, status_code=401)


async def _forbidden(request: Request, exc: Forbidden) -> Response:
    return _error_page(request, 403, "没有权限", str(exc))


async def _csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
    return _error_page(request, 403, "请求被拒绝", str(exc))

def install_console(app: FastAPI) -> None:
    """Templates, routes, static files and the error pages of the console (``create_app``
    calls it; the lifespan puts ``accounts``, ``web_auth`` and ``desk`` on ``app.state``)."""
    app.state.templates = make_templates()
    app.include_router(auth.router())
    app.include_router(lawyer.router())
    for module in (admin, kb, tuning, dashboard, alerts, roster, learning, users):
        app.include_router(module.router())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRejected, _csrf_rejected)  # type: ignore[arg-type]
