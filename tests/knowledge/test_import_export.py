"""Dry runs, XLSX, and an export that re-imports without changes."""
from __future__ import annotations

import json

import pytest
from openpyxl import Workbook

from knowledge.citation import Citation
from knowledge.entry import EntryData
from knowledge.exporters import export_file
from knowledge.importers import import_file
from knowledge.taxonomy import Kind, Status
from knowledge.versions import history


def _write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows),
                    encoding="utf-8")
    return path


def test_a_dry_run_reports_errors_by_line_and_counts_and_writes_nothing(store, tmp_path):
    store.upsert(EntryData(kind=Kind.FAQ, external_id="same", question="旧问题", answer="旧答案。",
                           source="faq.jsonl"))  # as an import of faq.jsonl writes it
    store.upsert(EntryData(kind=Kind.FAQ, external_id="edit", question="要改的问题", answer="旧答案。"))
    revision, count = store.revision(), store.count()
    path = _write_jsonl(tmp_path / "faq.jsonl", [
        {"id": "new", "question": "新问题", "answer": "新答案。"},
        {"id": "same", "question": "旧问题", "answer": "旧答案。"},
        {"id": "edit", "question": "要改的问题", "answer": "新答案。"},
        {"id": "bad", "question": "没有答案"},
        "{not json",
        {"id": "cat", "question": "问", "answer": "答。", "category": "不存在的分类"},
    ])
    report = import_file(store, path, Kind.FAQ, dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert [e.line for e in report.errors] == [4, 5, 6]
    assert "answer" in report.errors[0].reason
    assert (store.revision(), store.count()) == (revision, count)
    assert store.find("faq", "edit").answer == "旧答案。"
    assert store.find("faq", "new") is None


def test_an_xlsx_file_imports_with_sheet_row_numbers(store, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["external_id", "question", "answer", "category", "alt_questions", "citations"])
    sheet.append(["x1", "工资被拖欠怎么办", "可以申请劳动仲裁。", "劳动争议", "老板不发工资|欠薪",
                  "《劳动法》第五十条"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["x2", "没有答案的问题", None, "劳动争议", None, None])
    book.save(tmp_path / "faq.xlsx")
    report = import_file(store, tmp_path / "faq.xlsx", Kind.FAQ)
    assert report.created == 1 and [e.line for e in report.errors] == [4]
    entry = store.find("faq", "x1")
    assert entry.alt_questions == ["老板不发工资", "欠薪"]
    assert entry.citations == [{"law": "劳动法", "article": 50}]


def _base(store):
    store.upsert_many([
        EntryData(kind=Kind.FAQ, external_id="f1", question="押金不退怎么办", answer="先协商。\n再起诉。",
                  alt_questions=["房东扣押金", "押金|不退"], category="房屋租赁", tags=["租房"],
                  citations=[Citation(law="民法典", article=703)], region="深圳", source=None),
        EntryData(kind=Kind.FAQ, external_id="f2", title="自定标题", question="问", answer="答。",
                  status=Status.DRAFT),
        EntryData(kind=Kind.CASE, external_id="c1", title="加班费案", facts="事实。", judgment="判决。",
                  category="劳动争议", source="某法院"),
        EntryData(kind=Kind.ARTICLE, external_id="民法典#703", law="民法典", article_no=703,
                  text="租赁合同是……", version="2020", status=Status.IN_REVIEW),
    ])


@pytest.mark.parametrize("suffix", ["jsonl", "xlsx"])
def test_an_export_re_imports_without_changes(store, tmp_path, suffix):
    _base(store)
    revision = store.revision()
    path = tmp_path / f"kb.{suffix}"
    assert export_file(store, path) == 4
    report = import_file(store, path, None, status=None)
    assert (report.unchanged, report.created, report.updated, report.errors) == (4, 0, 0, [])
    assert store.revision() == revision


def test_an_export_of_one_kind_re_imports_with_that_kind(store, tmp_path):
    _base(store)
    export_file(store, tmp_path / "faq.jsonl", kind="faq")
    report = import_file(store, tmp_path / "faq.jsonl", Kind.FAQ, status=None)
    assert (report.unchanged, report.errors) == (2, [])


def test_an_import_update_is_a_version_by_the_importer(store, tmp_path):
    path = _write_jsonl(tmp_path / "faq.jsonl", [{"id": "v1", "question": "问", "answer": "一。"}])
    import_file(store, path, Kind.FAQ, author="alice")
    _write_jsonl(path, [{"id": "v1", "question": "问", "answer": "二。"}])
    import_file(store, path, Kind.FAQ, author="bob")
    with store.session() as s:
        rows = history(s, store.find("faq", "v1").id)
    assert [(v.action, v.author, v.content["answer"]) for v in rows] == [
        ("import", "alice", "一。"), ("import", "bob", "二。")]


def test_a_row_whose_kind_differs_from_the_import_kind_is_an_error(store, tmp_path):
    path = _write_jsonl(tmp_path / "x.jsonl", [{"kind": "case", "id": "k", "title": "t", "facts": "f"}])
    report = import_file(store, path, Kind.FAQ)
    assert report.imported == 0 and "不一致" in report.errors[0].reason
