"""Importing JSONL and CSV: mappings, idempotence, bad rows."""
import json
from pathlib import Path

from knowledge.importers import import_file, parse_mapping
from knowledge.store import EntryFilter
from knowledge.taxonomy import Kind, Status
from tests.conftest import shared_file


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows),
                    encoding="utf-8")
    return path


FAQ = {"external_id": "f1", "category": "劳动争议", "question": "公司拖欠工资怎么办？",
       "alt_questions": ["老板不发工资"], "answer": "可以向劳动保障监察机构投诉，或申请劳动仲裁。",
       "citations": [{"law": "劳动合同法", "article": 30}], "tags": ["工资"]}


def test_reimporting_the_same_file_updates_and_never_duplicates(store, tmp_path):
    path = _write_jsonl(tmp_path / "faq.jsonl", [FAQ, FAQ | {"external_id": "f2", "question": "加班费怎么算"}])
    first = import_file(store, path, Kind.FAQ)
    assert (first.created, first.updated, first.errors) == (2, 0, [])
    again = import_file(store, path, Kind.FAQ)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    _write_jsonl(path, [FAQ | {"answer": "先协商；协商不成可以申请劳动仲裁。"}])
    changed = import_file(store, path, Kind.FAQ)
    assert (changed.created, changed.updated) == (0, 1)
    assert store.count() == 2
    assert store.find("faq", "f1").answer.startswith("先协商")


def test_bad_rows_are_reported_by_line_and_good_rows_still_import(store, tmp_path):
    path = _write_jsonl(tmp_path / "faq.jsonl", [
        FAQ,
        "{not json",
        FAQ | {"external_id": "f3", "answer": ""},
        FAQ | {"external_id": "f4", "category": "外星法"},
        "[1, 2]",
        FAQ | {"external_id": "f5"},
    ])
    report = import_file(store, path, Kind.FAQ)
    assert report.created == 2
    assert [e.line for e in report.errors] == [2, 3, 4, 5]
    assert "answer" in report.errors[1].reason
    assert "外星法" in report.errors[2].reason


def test_revision_moves_only_when_content_changes(store, tmp_path):
    path = _write_jsonl(tmp_path / "faq.jsonl", [FAQ])
    import_file(store, path, Kind.FAQ)
    rev = store.revision()
    import_file(store, path, Kind.FAQ)
    assert store.revision() == rev


def test_csv_with_a_field_mapping(store, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("编号,问题,回答,分类\nc1,离婚冷静期多久,三十日,婚姻家庭\nc2,,缺问题,婚姻家庭\n", encoding="utf-8")
    mapping = parse_mapping("external_id=编号,question=问题,answer=回答,category=分类")
    report = import_file(store, path, Kind.FAQ, mapping, Status.DRAFT)
    assert report.created == 1 and [e.line for e in report.errors] == [3]
    entry = store.find("faq", "c1")
    assert (entry.title, entry.category, entry.status) == ("离婚冷静期多久", "婚姻家庭", "draft")


def test_shared_cases_and_articles_import_with_their_ids(store):
    report = import_file(store, shared_file("cases_typical.jsonl"), Kind.CASE)
    assert report.errors == [] and report.created == 52
    case = store.find("case", "case_加班费的仲裁时效应当如何认定")
    assert case.facts and case.category == "劳动争议"
    assert store.count(EntryFilter(kind="case")) == 52


def test_shared_faq_rows_get_citations_parsed(store, tmp_path):
    src = shared_file("faq_lawyer_llama.jsonl")
    rows = [line for line in src.read_text(encoding="utf-8").splitlines() if '"laws": ["《民法典》' in line][:5]
    assert rows
    report = import_file(store, _write_jsonl(tmp_path / "ll.jsonl", rows), Kind.FAQ)
    assert report.created == len(rows) and report.errors == []
    entry = store.list(EntryFilter(kind="faq"))[0]
    assert any(c["law"] == "民法典" for c in entry.citations)
