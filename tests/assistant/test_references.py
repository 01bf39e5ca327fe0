"""An escalated resident gets, besides the ticket, the law articles found confidently,
labelled as reference; never an article of a repealed statute; one query embedding.

The floors of "confidently" were measured for the real model, so these run on it."""
import json

import pytest

from api.settings import Settings
from assistant.outcome import Decision
from assistant.references import Reference, excerpt
from assistant.reply import REFERENCES_HEAD, WECHAT_MAX_BYTES, escalate_text, references_text, split_message
from knowledge.entry import EntryData
from knowledge.importers import import_file
from knowledge.taxonomy import Kind
from tests.conftest import shared_file

ARTICLES = ("民法典#1079", "民法典#1084", "劳动合同法#82")
DIVORCE = ("夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼，"
           "感情确已破裂，调解无效的，应当准予离婚吗")
# The repealed 婚姻法 said much the same as 民法典 art. 1079: it must still never be shown.
REPEALED = EntryData(kind=Kind.ARTICLE, external_id="婚姻法#32", law="婚姻法", article_no=32,
                     category="婚姻家庭", title="中华人民共和国婚姻法",
                     text="男女一方要求离婚的，可由有关部门进行调解或直接向人民法院提出离婚诉讼。"
                          "人民法院审理离婚案件，应当进行调解；如感情确已破裂，调解无效，应准予离婚。")
CASE = EntryData(kind=Kind.CASE, external_id="test-case-divorce", category="婚姻家庭",
                 title="夫妻一方要求离婚，调解无效的，法院准予离婚",
                 facts="夫妻一方要求离婚，直接向人民法院提起离婚诉讼，感情确已破裂，调解无效。",
                 judgment="法院判决准予离婚。", citations=[{"law": "民法典", "article": 1079}])


class CountingEmbedder:
    """The real embedder, counting the queries it embeds."""

    def __init__(self, inner) -> None:
        self.inner, self.query_calls = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode_queries(self, texts):
        self.query_calls += 1
        return self.inner.encode_queries(texts)


slow = pytest.mark.slow


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, model_root):
    from assistant.service import open_assistant, open_store

    root = tmp_path_factory.mktemp("refs")
    rows = [r for r in map(json.loads, shared_file("laws_articles.jsonl").read_text(encoding="utf-8").splitlines())
            if r["id"] in ARTICLES]
    picked = root / "articles.jsonl"
    picked.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (root / "data").mkdir()
    (root / "data" / "models").symlink_to(model_root / "models")  # the model prepared once
    settings = Settings(data_dir=root / "data")
    store = open_store(settings.storage)
    assert import_file(store, picked, Kind.ARTICLE).imported == len(ARTICLES)
    store.upsert(REPEALED)
    store.upsert(CASE)
    store.upsert(EntryData(kind=Kind.FAQ, external_id="test-faq-wages", category="劳动争议",
                           question="公司拖欠工资怎么办", answer="可以向劳动保障监察机构投诉，或申请劳动仲裁。"))
    assistant = open_assistant(settings, progress=lambda _m: None, show_progress=False, store=store)
    assistant.retriever.embedder = CountingEmbedder(assistant.retriever.embedder)
    return assistant


def escalate(assistant, question: str):
    outcome = assistant.respond("转人工", history=[question])
    assert outcome.decision is Decision.ESCALATE
    return outcome


@slow
def test_an_escalated_question_shows_the_article_it_matches_as_reference(assistant):
    outcome = escalate(assistant, DIVORCE)
    assert [r.external_id for r in outcome.references if r.kind == "article"][:1] == ["民法典#1079"]
    assert REFERENCES_HEAD in outcome.reply
    assert "1. 《民法典》第一千零七十九条：夫妻一方要求离婚的" in outcome.reply


@slow
def test_the_ticket_text_comes_first_and_the_references_after(assistant):
    reply = escalate(assistant, DIVORCE).reply
    assert reply.startswith("好的，已为您转接人工律师。")
    assert reply.index("12348") < reply.index(REFERENCES_HEAD)


@slow
def test_a_typical_case_is_shown_beside_an_article_it_cites(assistant):
    cases = [r for r in escalate(assistant, DIVORCE).references if r.kind == "case"]
    assert [c.external_id for c in cases] == ["test-case-divorce"]


@slow
def test_nothing_is_shown_when_no_article_matches(assistant):
    outcome = escalate(assistant, "我家的狗晚上一直叫，楼下住户天天上门吵架怎么办")
    assert outcome.references == []
    assert REFERENCES_HEAD not in outcome.reply


@slow
def test_a_bare_request_for_a_person_gets_no_references(assistant):
    outcome = assistant.respond("转人工")
    assert outcome.decision is Decision.ESCALATE and outcome.references == []


@slow
def test_an_article_of_a_repealed_statute_is_never_shown(assistant):
    outcome = escalate(assistant, "男女一方要求离婚的，可由有关部门进行调解或直接向人民法院提出离婚诉讼，"
                                  "如感情确已破裂，调解无效，应准予离婚")
    assert "婚姻法#32" in [c.external_id for c in outcome.candidates]  # found, and left out
    assert all(r.law != "婚姻法" for r in outcome.references)
    assert "婚姻法" not in outcome.reply


@slow
def test_a_reply_with_references_embeds_the_query_once(assistant):
    counter = assistant.retriever.embedder
    before = counter.query_calls
    outcome = escalate(assistant, DIVORCE)
    assert outcome.references
    assert counter.query_calls - before == 1


def test_an_excerpt_is_the_start_of_the_article_within_about_sixty_characters():
    text = "第一句话说的是规则本身，写得比较长一些，足够占到二十多个字。" * 4
    short = excerpt(text)
    assert text.startswith(short.removesuffix("……")) and len(short) <= 62
    assert excerpt("一句短话。") == "一句短话。"


def test_references_and_the_hand_over_fit_wechat_messages():
    long = Reference("case", 9, "c", "很长的典型案例标题" * 120, None, None, "", 0.9)
    article = Reference("article", 1, "民法典#1079", "中华人民共和国民法典", "民法典", 1079,
                        "夫妻一方要求离婚的" * 7, 0.95)
    refs = [article] * 3 + [long]
    text = escalate_text("low_confidence") + "\n\n" + references_text(refs)
    parts = split_message(text)
    assert len(parts) > 1 and all(len(p.encode("utf-8")) <= WECHAT_MAX_BYTES for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
