"""Early warning: the alert history and acknowledging alerts (/admin/alerts).

The banner on every admin page comes from ``render`` (``AlertBoard.banner``).  The router
depends on ``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.auth import require_admin
from api.console.forms import MAX_ID
from api.console.render import back, render
from api.deps import AdminPrincipal, SettingsDep
from assistant.alerts.delivery import SEVERITY_LABELS
from assistant.alerts.history import AlertBoard, AlertNotFound
from assistant.alerts.rules import thresholds

DELIVERY_WORDS = {"sent": "已发送", "failed": "发送失败", "off": "未配置"}
CHANNEL_WORDS = {"webhook": "Webhook", "email": "邮件"}


def board_of(request: Request) -> AlertBoard:
    board: AlertBoard = request.app.state.alert_board
    return board


def alerts_page(request: Request, principal: AdminPrincipal,
                settings: SettingsDep) -> HTMLResponse:
    only_open = request.query_params.get("show") == "open"
    rows = board_of(request).history(only_open=only_open)
    return render(request, "alerts.html", {
        "rows": rows, "only_open": only_open, "open_count": sum(1 for r in rows if r.open),
        "thresholds": thresholds(settings.alerts), "nav": "alerts",
        "SEVERITY_LABELS": SEVERITY_LABELS, "DELIVERY_WORDS": DELIVERY_WORDS,
        "CHANNEL_WORDS": CHANNEL_WORDS,
    }, principal)


def acknowledge(request: Request, alert_id: int, principal: AdminPrincipal) -> RedirectResponse:
    try:
        if not 1 <= alert_id <= MAX_ID:
            raise AlertNotFound(alert_id)
        changed = board_of(request).acknowledge(alert_id, principal.staff.id)
    except AlertNotFound as exc:
        return back(request, principal, "/admin/alerts", "error", str(exc))
    return back(request, principal, "/admin/alerts", "ok",
                "已确认该预警" if changed else "该预警此前已被确认")


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    r.get("/alerts", response_class=HTMLResponse)(alerts_page)
    r.post("/alerts/{alert_id}/ack")(acknowledge)
    return r
