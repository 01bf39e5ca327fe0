"""Hit testing and tuning: hit tests, the regression set, evaluations and thresholds.

The router depends on ``require_admin``, so no route can be added without the role check.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends

from api.console.auth import require_admin


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    return r
