"""/admin/eval: run an evaluation file, see what other thresholds would do, and save new
thresholds (/admin/thresholds: validated, audited, applied to every worker).

The evaluation route is sync: a big file is measured in the threadpool, never on the event
loop.  The upload is capped (``MAX_UPLOAD_BYTES``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from api.cli.eval import SHARED_DATA
from api.console.render import back, render
from api.deps import AdminPrincipal, AssistantDep, EngineDep, SettingsDep
from assistant.tuning import eval_runs, thresholds
from assistant.tuning.eval_runs import MAX_UPLOAD_BYTES, EvalFileError
from assistant.tuning.thresholds import InvalidThresholds
from assistant.tuning.whatif import THRESHOLD_REASONS

PAGE = "/admin/eval"
SPLIT_LABELS = {"": "全部", "calib": "校准部分（calib）", "heldout": "留出部分（heldout）"}
MAX_MB = MAX_UPLOAD_BYTES // (1024 * 1024)


def eval_page(request: Request, principal: AdminPrincipal, engine: EngineDep, settings: SettingsDep,
              assistant: AssistantDep, run: str = "") -> HTMLResponse:
    runs = eval_runs.latest(engine)
    shown = eval_runs.get(engine, int(run)) if run.isdigit() and len(run) < 10 else (runs[0] if runs else None)
    return render(request, "tuning_eval.html", {
        "nav": "eval", "runs": runs, "shown": shown, "max_mb": MAX_MB, "splits": SPLIT_LABELS,
        "stored": thresholds.current(engine, thresholds.defaults(settings.assistant)),
        "in_force": getattr(assistant, "thresholds", None), "changes": thresholds.changes(engine),
        "labels": thresholds.LABELS, "threshold_reasons": sorted(THRESHOLD_REASONS),
    }, principal)


def run_eval(request: Request, principal: AdminPrincipal, engine: EngineDep, assistant: AssistantDep,
             file: UploadFile | None = File(None), split: str = Form("")) -> RedirectResponse:
    if file is None or not file.filename:
        return back(request, principal, PAGE, "error", "请选择要评测的文件（JSONL）")
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return back(request, principal, PAGE, "error", f"文件太大：最多 {MAX_MB} MB")
    if split not in SPLIT_LABELS:
        return back(request, principal, PAGE, "error", "未知的数据划分")
    with tempfile.TemporaryDirectory(prefix="fazhi-eval-") as folder:
        path = Path(folder) / "upload.jsonl"
        path.write_bytes(data)
        try:
            report = eval_runs.evaluate_file(assistant, path, SHARED_DATA, split or None)
        except EvalFileError as exc:
            return back(request, principal, PAGE, "error", f"无法评测 {file.filename}：{exc}")
    run = eval_runs.record(engine, principal.staff.display_name, file.filename, report)
    return back(request, principal, f"{PAGE}?run={run.id}", "ok", f"评测完成：{file.filename}，共 {run.questions} 题")


def save_thresholds(request: Request, principal: AdminPrincipal, engine: EngineDep, settings: SettingsDep,
                    assistant: AssistantDep, answer: str = Form(""), suggest: str = Form(""),
                    suggest_floor: str = Form(""), reason: str = Form(""),
                    back_to: str = Form("")) -> RedirectResponse:
    target = back_to if back_to.startswith(PAGE) and "//" not in back_to else PAGE
    try:
        new = thresholds.parse(answer, suggest, suggest_floor)
        change = thresholds.save(engine, new, principal.staff.id, principal.staff.display_name, reason,
                                 thresholds.defaults(settings.assistant))
    except InvalidThresholds as exc:
        return back(request, principal, target, "error", f"阈值未保存：{exc}")
    sync = getattr(request.app.state, "threshold_sync", None)
    if sync is not None:
        sync.apply()  # this worker at once; the others within their sync interval
    elif hasattr(assistant, "thresholds"):
        assistant.thresholds = change.new
    old, now = change.old, change.new
    return back(request, principal, target, "ok",
                f"阈值已保存并生效：回答 {old.answer:g} → {now.answer:g}，推荐 {old.suggest:g} → {now.suggest:g}，"
                f"候选下限 {old.suggest_floor:g} → {now.suggest_floor:g}")


def add_routes(r: APIRouter) -> None:
    r.get("/eval", response_class=HTMLResponse)(eval_page)
    r.post("/eval")(run_eval)
    r.post("/thresholds")(save_thresholds)
