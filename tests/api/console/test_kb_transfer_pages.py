"""The knowledge-base import and export pages (/admin/kb/import, /admin/kb/export): a dry run
that writes nothing and reports bad lines, and an export that re-imports unchanged."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.console.test_kb_pages import add_article, admin, create, entries, kb_store
from tests.helpers import csrf_of, flash_of, post


def _upload(client: TestClient, path: Path, **data):
    token = csrf_of(client.get("/admin/kb/import").text)
    with path.open("rb") as handle:
        return client.post("/admin/kb/import", data={"csrf_token": token, **data},
                           files={"file": (path.name, handle)})


def _counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def test_an_import_dry_run_with_bad_rows_writes_nothing_and_reports_the_bad_lines(kb_console, tmp_path):
    add_article(kb_console)
    path = tmp_path / "faq.csv"
    path.write_text("编号,问题,回答,分类\n"
                    "t1,试运行的问题一,答案一,劳动争议\n"
                    "t2,试运行的问题二,,劳动争议\n"
                    "t3,试运行的问题三,答案三,外星法\n"
                    "t4,试运行的问题四,答案四,工伤\n", encoding="utf-8")
    browser = admin(kb_console)
    before = entries(kb_console)
    first = _upload(browser, path, kind="faq", status="draft")
    assert first.status_code == 200 and "尚未写入任何内容" in first.text
    assert _counts(first.text)["errors"] == 4  # no mapping yet: 问题/回答 are not our columns
    token = re.search(r'/admin/kb/import/([\w-]+)/check', first.text).group(1)
    mapped = post(browser, f"/admin/kb/import/{token}/check", "/admin/kb/import", kind="faq", status="draft",
                  map_external_id="编号", map_question="问题", map_answer="回答", map_category="分类")
    assert _counts(mapped) == {"created": 2, "updated": 0, "unchanged": 0, "errors": 2, "warnings": 0}
    errors = mapped[mapped.index('id="dry-run-errors"'):]
    assert "第 3 行：</strong>缺少必填字段：answer（答案）" in errors
    assert "第 4 行：</strong>category（分类）：未知分类：外星法" in errors
    assert entries(kb_console) == before  # nothing written by either dry run
    done = post(browser, f"/admin/kb/import/{token}/confirm", "/admin/kb/import", kind="faq", status="draft",
                map_external_id="编号", map_question="问题", map_answer="回答", map_category="分类")
    assert flash_of(done).startswith("导入完成：新增 2，更新 0，未变 0，跳过错误行 2")
    assert entries(kb_console) == before + 2
    assert kb_store(kb_console).find("faq", "t1").status == "draft"


@pytest.mark.parametrize("fmt", ["jsonl", "xlsx"])
def test_an_export_re_imports_with_every_row_unchanged(kb_console, tmp_path, fmt):
    add_article(kb_console)
    browser = admin(kb_console)
    create(browser, intent="review")
    r = browser.get("/admin/kb/export", params={"fmt": fmt})
    assert r.status_code == 200 and f'filename="fazhi-kb.{fmt}"' in r.headers["content-disposition"]
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(r.content)
    if fmt == "jsonl":
        assert len(r.text.splitlines()) == entries(kb_console)
        assert {json.loads(line)["status"] for line in r.text.splitlines()} >= {"published", "in_review"}
    check = _upload(browser, path, kind="", status="file")
    assert _counts(check.text) == {"created": 0, "updated": 0, "unchanged": entries(kb_console),
                                   "errors": 0, "warnings": _counts(check.text)["warnings"]}
    assert "无需导入" in check.text


def test_an_upload_that_is_not_a_table_is_refused_in_chinese(kb_console, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    r = _upload(admin(kb_console), path, kind="faq", status="draft")
    assert r.status_code == 400 and "请上传 .jsonl、.csv 或 .xlsx 文件" in r.text
