"""Hit testing and tuning: hit tests, the regression set, evaluations and thresholds.

The pages live in ``tuning_hit_test`` (/admin/hit-test), ``tuning_regression``
(/admin/regression) and ``tuning_eval`` (/admin/eval, /admin/thresholds); this module makes
their one router.  The router depends on ``require_admin``, so no route can be added
without the role check.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends

from api.console.auth import require_admin
from api.console.routes import tuning_eval, tuning_hit_test, tuning_regression


def router() -> APIRouter:
    r = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    for module in (tuning_hit_test, tuning_regression, tuning_eval):
        module.add_routes(r)
    return r
