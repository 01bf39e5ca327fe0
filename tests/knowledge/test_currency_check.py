"""Law currency: entries citing a repealed statute or a missing article are flagged."""
from __future__ import annotations

import json

from knowledge.citation import Citation
from knowledge.currency import check_entries
from knowledge.entry import EntryData
from knowledge.importers import import_file
from knowledge.taxonomy import Kind, Status


def _faq(ext: str, *cites: tuple[str, int], status: Status = Status.PUBLISHED) -> EntryData:
    return EntryData(kind=Kind.FAQ, external_id=ext, question=f"问题{ext}", answer="答案。", status=status,
                     citations=[Citation(law=law, article=no) for law, no in cites])


def _article(law: str, no: int) -> EntryData:
    return EntryData(kind=Kind.ARTICLE, external_id=f"{law}#{no}", law=law, article_no=no, text="条文。")


def test_an_entry_citing_a_loaded_current_article_is_not_flagged(store):
    store.upsert_many([_article("民法典", 703), _faq("ok", ("民法典", 703))])
    assert check_entries(store) == []


def test_a_repealed_statute_is_flagged_with_its_successor(store):
    _, entry_id = store.upsert(_faq("old", ("合同法", 114)))
    [flag] = check_entries(store)
    assert (flag.entry_id, flag.external_id) == (entry_id, "old")
    assert "《合同法》已于 2021-01-01 废止" in flag.reason and "民法典" in flag.reason


def test_a_citation_that_resolves_to_no_article_entry_is_flagged(store):
    store.upsert_many([_article("民法典", 703), _faq("gap", ("民法典", 703), ("民法典", 9999))])
    [flag] = check_entries(store)
    assert flag.external_id == "gap" and "第九千九百九十九条" in flag.reason and "没有这一条文" in flag.reason


def test_an_archived_article_does_not_count_and_an_archived_entry_is_not_listed(store):
    store.upsert_many([_article("民法典", 703), _article("民法典", 704),
                       _faq("gone", ("合同法", 1), status=Status.ARCHIVED), _faq("cites", ("民法典", 703))])
    assert check_entries(store) == []
    _, article_id = store.upsert(_article("民法典", 703))
    store.set_status(article_id, Status.ARCHIVED)
    assert [f.external_id for f in check_entries(store)] == ["cites"]


def test_with_no_article_loaded_only_repealed_statutes_are_flagged(store):
    """A knowledge base of FAQs only cannot resolve citations; flagging every one would bury
    the repealed statutes."""
    store.upsert_many([_faq("unchecked", ("民法典", 703)), _faq("old", ("合同法", 114))])
    assert [f.external_id for f in check_entries(store)] == ["old"]


def test_an_article_of_a_repealed_statute_is_flagged(store):
    store.upsert(_article("中华人民共和国婚姻法", 32))
    assert [f.external_id for f in check_entries(store)] == ["中华人民共和国婚姻法#32"]


def test_the_importer_warns_about_such_rows_and_still_imports_them(store, tmp_path):
    store.upsert(_article("民法典", 703))
    path = tmp_path / "faq.jsonl"
    rows = [{"id": "a", "question": "押金", "answer": "答。", "citations": ["《民法典》第七百零三条"]},
            {"id": "b", "question": "违约金", "answer": "答。", "citations": ["《合同法》第一百一十四条"]},
            {"id": "c", "question": "某条", "answer": "答。", "citations": [{"law": "民法典", "article": 9999}]}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = import_file(store, path, Kind.FAQ)
    assert report.created == 3 and report.errors == []
    assert [w.line for w in report.warnings] == [2, 3]
    assert "废止" in report.warnings[0].reason and "没有这一条文" in report.warnings[1].reason
