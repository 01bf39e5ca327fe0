"""What the action routes share: run one desk action and redirect back with its message,
read a staff member chosen in a form, and read a day from a query parameter."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

from api.console.auth import Principal
from api.console.render import back
from assistant.queue.errors import QueueError, TicketNotFound
from assistant.queue.staff import Accounts, UserNotFound
from knowledge.timeutil import parse_day

MAX_ID = 2**31 - 1  # ids beyond any row (and beyond what the databases' integers hold)


def ticket_url(ticket_id: int) -> str:
    return f"/lawyer/tickets/{ticket_id}"


def act(request: Request, principal: Principal, ticket_id: int,
         ok_text: str | Callable[[Any], str], action: Callable[[], Any],
         target: str | None = None) -> RedirectResponse:
    """Run one desk action; QueueError messages become the flash shown on the page."""
    target = target or ticket_url(ticket_id)
    try:
        if not 1 <= ticket_id <= MAX_ID:
            raise TicketNotFound(ticket_id)
        result = action()
    except TicketNotFound as exc:  # nothing to go back to: the queue
        return back(request, principal, "/lawyer/", "error", str(exc))
    except QueueError as exc:
        return back(request, principal, target, "error", str(exc))
    text = ok_text(result) if callable(ok_text) else ok_text
    return back(request, principal, target, "ok", text)


def staff_id_of(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValueError(value)
    return int(value)


def name_of(accounts: Accounts, user_id: int | None) -> str:
    if user_id is None:
        return "待接单池"
    try:
        return accounts.get(user_id).display_name
    except UserNotFound:
        return f"#{user_id}"


def day_of(value: str | None, default: date) -> tuple[date, bool]:
    """A date range's end from a query parameter: the day, or ``default`` with False when it
    is not a plausible date (the page then says so and uses the default)."""
    if not value:
        return default, True
    try:
        day = parse_day(value)
    except ValueError:
        return default, False
    return (day, True) if 2000 <= day.year <= 2100 else (default, False)
