"""Bulk import and export (/admin/kb/import, /admin/kb/export).

An upload is kept in the data dir under a random token and checked at once (a dry run:
errors by line, what would be created / updated / unchanged, nothing written); the admin
may map the file's columns onto entry fields and check again, then confirms, and only
then is anything written.  Exports are the whole base as JSONL or XLSX, which re-import
without changes.
"""
from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.console.auth import Principal
from api.console.render import back
from api.console.routes.kb_common import kb_render, kind_of
from api.deps import AdminPrincipal, SettingsDep, StoreDep, kb_changed
from api.settings import Settings
from knowledge.exporters import export_file
from knowledge.importers import ImportFormatError, check_mapping, columns_of, import_file, mapping_fields
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import Status

SUFFIXES = (".jsonl", ".csv", ".xlsx")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
KEEP_UPLOADS_S = 24 * 3600
SHOWN_ROWS = 200  # error / warning lines listed (the counts say how many in all)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
STATUS_CHOICES = {"draft": Status.DRAFT, "in_review": Status.IN_REVIEW, "file": None}
EXPORT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _uploads(settings: Settings) -> Path:
    return settings.storage.data_dir / "kb-imports"


def _upload_of(settings: Settings, token: str) -> Path | None:
    if not _TOKEN.match(token):
        return None
    folder = _uploads(settings) / token
    files = [p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES] if folder.is_dir() else []
    return files[0] if files else None


def _sweep(root: Path) -> None:
    """Uploads nobody confirmed within a day are removed."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.is_dir() and time.time() - folder.stat().st_mtime > KEEP_UPLOADS_S:
            shutil.rmtree(folder, ignore_errors=True)


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    stem = re.sub(r"[^\w.\-]+", "_", Path(base).stem)[:80].strip("._") or "upload"
    return stem + Path(base).suffix.lower()


class Choice:
    """The kind, status and mapping of an import, as the forms post them."""

    def __init__(self, kind: str, status: str, mapping: dict[str, str]) -> None:
        self.kind = kind_of(kind)
        self.status_key = status if status in STATUS_CHOICES else "draft"
        self.mapping = {k: v for k, v in mapping.items() if v}

    @property
    def status(self) -> Status | None:
        return STATUS_CHOICES[self.status_key]


def _mapping_of(request_form: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("map_"): v.strip() for k, v in request_form.items() if k.startswith("map_")}


def import_page(request: Request, principal: AdminPrincipal) -> HTMLResponse:
    return kb_render(request, "kb_import.html", {"step": "upload", "error": "", "choice": Choice("", "draft", {})},
                     principal)


def _dry_run(request: Request, principal: Principal, store: KnowledgeStore, path: Path, token: str,
             choice: Choice) -> HTMLResponse:
    error = ""
    report = None
    columns: list[str] = []
    try:
        columns = columns_of(path)
        check_mapping(choice.mapping, choice.kind)
        report = import_file(store, path, choice.kind, choice.mapping, choice.status, dry_run=True,
                             author=principal.staff.username)
    except ImportFormatError as exc:
        error = str(exc)
    return kb_render(request, "kb_import.html", {
        "step": "check", "error": error, "report": report, "token": token, "file_name": path.name,
        "columns": columns, "targets": mapping_fields(choice.kind), "choice": choice, "shown_rows": SHOWN_ROWS,
    }, principal, status_code=400 if error else 200)


def upload(request: Request, principal: AdminPrincipal, store: StoreDep, settings: SettingsDep,
           file: UploadFile = File(...), kind: str = Form(""), status: str = Form("draft")) -> HTMLResponse:
    choice = Choice(kind, status, {})
    name = _safe_name(file.filename or "")
    if Path(name).suffix not in SUFFIXES:
        return kb_render(request, "kb_import.html", {"step": "upload", "choice": choice,
                                                     "error": "请上传 .jsonl、.csv 或 .xlsx 文件"},
                         principal, status_code=400)
    root = _uploads(settings)
    _sweep(root)
    token = secrets.token_urlsafe(18)
    folder = root / token
    folder.mkdir(parents=True)
    path = folder / name
    size = 0
    with path.open("wb") as out:
        while chunk := file.file.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                break
            out.write(chunk)
    if size > MAX_UPLOAD_BYTES:
        shutil.rmtree(folder, ignore_errors=True)
        return kb_render(request, "kb_import.html", {
            "step": "upload", "choice": choice,
            "error": f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请拆分后分批导入"}, principal, status_code=400)
    return _dry_run(request, principal, store, path, token, choice)


def _expired(request: Request, principal: Principal) -> RedirectResponse:
    return back(request, principal, "/admin/kb/import", "error", "导入文件已过期或不存在，请重新上传")


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def recheck(request: Request, token: str, principal: AdminPrincipal, store: StoreDep, settings: SettingsDep,
            form: dict[str, str]) -> HTMLResponse | RedirectResponse:
    path = _upload_of(settings, token)
    if path is None:
        return _expired(request, principal)
    choice = Choice(form.get("kind", ""), form.get("status", "draft"), _mapping_of(form))
    return _dry_run(request, principal, store, path, token, choice)


def confirm(request: Request, token: str, principal: AdminPrincipal, store: StoreDep, settings: SettingsDep,
            form: dict[str, str]) -> HTMLResponse | RedirectResponse:
    path = _upload_of(settings, token)
    if path is None:
        return _expired(request, principal)
    choice = Choice(form.get("kind", ""), form.get("status", "draft"), _mapping_of(form))
    try:
        check_mapping(choice.mapping, choice.kind)
        report = import_file(store, path, choice.kind, choice.mapping, choice.status, author=principal.staff.username)
    except ImportFormatError:  # the check page says why
        return _dry_run(request, principal, store, path, token, choice)
    shutil.rmtree(path.parent, ignore_errors=True)
    if report.created or report.updated:
        kb_changed(request)
    text = (f"导入完成：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
            f"跳过错误行 {len(report.errors)}，需修改引用 {len(report.warnings)} 处")
    return back(request, principal, "/admin/kb", "warn" if report.errors else "ok", text)


def export(request: Request, principal: AdminPrincipal, store: StoreDep, fmt: str = "jsonl") -> FileResponse:
    fmt = fmt if fmt in EXPORT_TYPES else "jsonl"
    folder = Path(tempfile.mkdtemp(prefix="fazhi-export-"))
    path = folder / f"fazhi-kb.{fmt}"
    export_file(store, path, None, None)
    return FileResponse(path, media_type=EXPORT_TYPES[fmt], filename=path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
                        headers={"Cache-Control": "no-store"})


async def recheck_route(request: Request, token: str, principal: AdminPrincipal, store: StoreDep,
                        settings: SettingsDep) -> HTMLResponse | RedirectResponse:
    """The mapping fields are named map_<field>: the whole form is read (it is already parsed
    for the CSRF check), the work runs off the event loop."""
    form = await _posted(request)
    return await run_in_threadpool(recheck, request, token, principal, store, settings, form)


async def confirm_route(request: Request, token: str, principal: AdminPrincipal, store: StoreDep,
                        settings: SettingsDep) -> HTMLResponse | RedirectResponse:
    form = await _posted(request)
    return await run_in_threadpool(confirm, request, token, principal, store, settings, form)


def register(r: APIRouter) -> None:
    r.get("/kb/import", response_class=HTMLResponse)(import_page)
    r.post("/kb/import", response_class=HTMLResponse)(upload)
    r.post("/kb/import/{token}/check", response_model=None)(recheck_route)
    r.post("/kb/import/{token}/confirm", response_model=None)(confirm_route)
    r.get("/kb/export")(export)
