"""The knowledge-base curation pages under /admin/kb and /admin/review: browsing, the edit
forms and their checks, the review workflow, history with diffs and restores, import with a
dry run, export, and who may use them.  Every test that changes the knowledge base uses
``kb_console`` (its own copy of the knowledge base, index and assistant)."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.entry import EntryData
from knowledge.models import Entry, EntryVersion
from knowledge.store import KnowledgeStore
from tests.helpers import XSS, Console, console_routes, csrf_of, flash_of, post

QUESTION = "离婚协议里约定的子女抚养费可以要求增加吗"
ANSWER = "可以。子女抚养费协议不妨碍子女在必要时向父母任何一方提出超过协议原定数额的合理要求。"
FAQ = {"kind": "faq", "question": QUESTION, "answer": ANSWER, "citations": "《民法典》第1085条",
       "category": "婚姻家庭", "tags": "抚养费，离婚", "region": "",
       "alt_questions": "抚养费能不能多要\n离婚后抚养费涨"}


def kb_store(console: Console) -> KnowledgeStore:
    return console.app.state.store


def add_article(console: Console, law: str = "民法典", number: int = 1085,
                text: str = "离婚后，子女由一方直接抚养的，另一方应当负担部分或者全部抚养费。") -> int:
    _result, entry_id = kb_store(console).upsert(EntryData(kind="article", law=law, article_no=number, text=text,
                                                           external_id=f"test-{law}-{number}"))
    return entry_id


def admin(console: Console, username: str = "boss", name: str = "王主任") -> TestClient:
    console.add(username, role="admin", name=name)
    return console.login(username)


def send(client: TestClient, path: str, page: str, **data):
    """Submit a form as its page would (the page's CSRF token); the response, redirects followed."""
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text), **data})


def create(client: TestClient, intent: str = "draft", **fields) -> int:
    r = client.post("/admin/kb/new", data={"csrf_token": csrf_of(client.get("/admin/kb/new").text),
                                           **(FAQ | fields), "intent": intent}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return int(re.fullmatch(r"/admin/kb/(\d+)", r.headers["location"]).group(1))


def move(client: TestClient, entry_id: int, target: str, reason: str = "") -> str:
    return flash_of(post(client, f"/admin/kb/{entry_id}/move", f"/admin/kb/{entry_id}", target=target,
                         reason=reason))


def entries(console: Console) -> int:
    with Session(console.engine) as s:
        return s.scalar(select(func.count(Entry.id))) or 0


def versions_of(console: Console, entry_id: int) -> list[EntryVersion]:
    with Session(console.engine) as s:
        return list(s.scalars(select(EntryVersion).where(EntryVersion.entry_id == entry_id)
                              .order_by(EntryVersion.version)))


# -- the edit form's checks ------------------------------------------------------------

def test_a_draft_with_bad_fields_shows_each_fields_error_keeps_the_input_and_writes_nothing(kb_console):
    browser = admin(kb_console)
    before = entries(kb_console)
    r = send(browser, "/admin/kb/new", "/admin/kb/new", **(FAQ | {"answer": "", "category": "外星法",
                                                                  "citations": "民法典一千条款"}))
    assert r.status_code == 400
    html = r.text
    assert "有 3 处需要修改，内容尚未保存" in html
    assert re.search(r'id="err-answer"[^>]*><p>请填写答案</p>', html)
    assert re.search(r'id="err-category"[^>]*><p>分类“外星法”不在分类表中', html)
    assert "“民法典一千条款”格式不对，请写作《民法典》第1084条" in html
    assert f">{QUESTION}</textarea>" in html  # what was typed is kept
    assert "抚养费能不能多要\n离婚后抚养费涨</textarea>" in html
    assert entries(kb_console) == before


def test_a_citation_that_resolves_to_no_article_is_refused(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    before = entries(kb_console)
    r = send(browser, "/admin/kb/new", "/admin/kb/new",
             **(FAQ | {"citations": "《民法典》第1085条\n《民法典》第9999条"}))
    assert r.status_code == 400
    assert "《民法典》第9999条：知识库中没有这一条文" in r.text
    assert "第1085条：" not in r.text  # the one that resolves is fine
    assert entries(kb_console) == before


def test_a_repealed_statute_is_refused_with_its_successor(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    r = send(browser, "/admin/kb/new", "/admin/kb/new", **(FAQ | {"cite_law": "中华人民共和国婚姻法", "cite_no": "37"}))
    assert r.status_code == 400
    assert "《婚姻法》第37条：《婚姻法》已于 2021-01-01 废止，请改引《民法典》的相应条文" in r.text


def test_a_reply_longer_than_one_wechat_message_is_a_warning_not_an_error(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    long_answer = "第一，应当先协商；协商不成的，可以向人民法院起诉。" * 60  # ~ 4,000 bytes
    checked = send(browser, "/admin/kb/new", "/admin/kb/new", **(FAQ | {"answer": long_answer, "intent": "check"}))
    assert checked.status_code == 200 and "需要修改" not in checked.text
    assert re.search(r"超过微信单条消息上限（2048 字节），将分 \d 条消息发送", checked.text)
    entry_id = create(browser, answer=long_answer)
    page = browser.get(f"/admin/kb/{entry_id}").text
    assert "超过微信单条消息上限" in page  # saved, and still pointed out on the entry page
    assert kb_store(kb_console).get(entry_id).answer == long_answer


def test_a_new_entry_is_a_draft_written_by_the_admin(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    entry_id = create(browser)
    entry = kb_store(kb_console).get(entry_id)
    assert entry.status == "draft" and entry.citations == [{"law": "民法典", "article": 1085}]
    assert entry.alt_questions == ["抚养费能不能多要", "离婚后抚养费涨"] and entry.tags == ["抚养费", "离婚"]
    assert entry.external_id.startswith("kb-faq-")
    [v1] = versions_of(kb_console, entry_id)
    assert (v1.action, v1.author) == ("create", "boss")


def test_a_case_and_an_article_are_written_with_their_own_fields(kb_console):
    browser = admin(kb_console)
    article = create(browser, kind="article", law="《中华人民共和国民法典》", article_no="一千零八十六",
                     text="离婚后，不直接抚养子女的父或者母，有探望子女的权利。", category="婚姻家庭")
    saved = kb_store(kb_console).get(article)
    assert (saved.law, saved.article_no, saved.title) == ("民法典", 1086, "《民法典》第一千零八十六条")
    case = create(browser, kind="case", title="父亲探望权纠纷案", facts="双方离婚后，母亲拒绝父亲探望孩子。",
                  judgment="法院判决父亲每月探望两次。", citations="民法典第1086条", category="婚姻家庭")
    saved = kb_store(kb_console).get(case)
    assert saved.kind == "case" and saved.citations == [{"law": "民法典", "article": 1086}]
    again = send(browser, "/admin/kb/new", "/admin/kb/new", kind="article", law="民法典", article_no="1086",
                 text="重复", category="婚姻家庭")
    assert again.status_code == 400 and f"《民法典》第1086条已有条目 #{article}" in again.text


def test_an_edit_made_on_an_old_copy_of_the_entry_is_refused_with_the_input_kept(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    entry_id = create(browser)
    stale = csrf_of(browser.get(f"/admin/kb/{entry_id}/edit").text)
    move(browser, entry_id, "in_review")  # version 2 meanwhile
    r = browser.post(f"/admin/kb/{entry_id}/edit", data={"csrf_token": stale, **FAQ, "answer": "我的修改",
                                                          "base_version": "1", "intent": "draft"})
    assert r.status_code == 400 and "该条目已被修改（现为第 2 版）" in r.text and ">我的修改</textarea>" in r.text
    assert kb_store(kb_console).get(entry_id).answer == ANSWER


def test_a_residents_phone_number_is_masked_in_the_list_and_pointed_out_in_the_form(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    question = "我的电话13812345678，公司拖欠工资怎么办"
    entry_id = create(browser, question=question)
    listed = browser.get("/admin/kb", params={"q": "公司拖欠工资怎么办"}).text
    assert f'href="/admin/kb/{entry_id}"' in listed and "138****5678" in listed and "13812345678" not in listed
    assert "疑似手机号、身份证号或银行卡号" in browser.get(f"/admin/kb/{entry_id}").text


# -- the workflow ---------------------------------------------------------------------

def test_the_author_cannot_publish_their_own_entry_and_a_second_admin_can(kb_console):
    add_article(kb_console)
    author = admin(kb_console)
    entry_id = create(author, intent="review")
    assert kb_store(kb_console).get(entry_id).status == "in_review"
    assert move(author, entry_id, "published") == "不能审核发布自己编写的条目，请由另一位管理员审核"
    assert kb_store(kb_console).get(entry_id).status == "in_review"
    reviewer = admin(kb_console, "li", "李主任")
    assert move(reviewer, entry_id, "published", "核对无误").startswith("已发布")
    last = versions_of(kb_console, entry_id)[-1]
    assert (last.status, last.author, last.reason) == ("published", "li", "核对无误")


def test_a_published_entry_is_found_by_the_assistant_at_once(kb_console):
    add_article(kb_console)
    question = "我在火星基地工作被克扣了氧气补贴该向哪里投诉"
    author = admin(kb_console)
    entry_id = create(author, intent="review", question=question, category="劳动争议",
                      answer="火星基地的氧气补贴被克扣，可以向基地所在地的劳动保障监察机构投诉。")
    assert all(c.id != entry_id for c in kb_console.assistant.respond(question).candidates)  # not yet
    move(admin(kb_console, "li", "李主任"), entry_id, "published")
    outcome = kb_console.assistant.respond(question)
    assert outcome.candidates and outcome.candidates[0].id == entry_id


def test_editing_a_published_entry_saves_a_pending_edit_and_keeps_it_published(kb_console):
    add_article(kb_console)
    author, reviewer = admin(kb_console), admin(kb_console, "li", "李主任")
    entry_id = create(author, intent="review")
    move(reviewer, entry_id, "published")
    form = reviewer.get(f"/admin/kb/{entry_id}/edit").text
    assert "保存的修改会作为“待审核的修改”单独保存：居民仍看到已发布的内容" in form
    html = post(reviewer, f"/admin/kb/{entry_id}/edit", f"/admin/kb/{entry_id}/edit",
                **(FAQ | {"answer": ANSWER + "（已更新）", "intent": "review", "reason": "补充"}))
    assert "已保存为待审核的修改（第 4 版，草稿）" in flash_of(html) and "已提交审核（第 5 版）" in flash_of(html)
    entry = kb_store(kb_console).get(entry_id)
    assert (entry.status, entry.answer, entry.current_version, entry.pending_version) == ("published", ANSWER, 3, 5)
    assert [(v.action, v.status, v.pending) for v in versions_of(kb_console, entry_id)][-2:] == [
        ("edit", "draft", True), ("status", "in_review", True)]


def test_an_unchanged_edit_writes_no_version(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    entry_id = create(browser)
    values = dict(re.findall(r'<input id="in-(\w+)" name="\w+" value="([^"]*)"',
                             browser.get(f"/admin/kb/{entry_id}/edit").text))
    html = post(browser, f"/admin/kb/{entry_id}/edit", f"/admin/kb/{entry_id}/edit",
                **(FAQ | {"external_id": values["external_id"]}))
    assert flash_of(html) == "内容没有变化，未生成新版本"
    assert len(versions_of(kb_console, entry_id)) == 1


def test_each_move_records_its_reason_in_the_version(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    entry_id = create(browser)
    assert move(browser, entry_id, "in_review", "请审核").startswith("已提交审核")
    assert move(browser, entry_id, "draft", "还要改").startswith("已转为草稿")
    assert move(browser, entry_id, "archived", "重复条目").startswith("已归档")
    assert [(v.status, v.reason) for v in versions_of(kb_console, entry_id)][1:] == [
        ("in_review", "请审核"), ("draft", "还要改"), ("archived", "重复条目")]
    assert move(browser, entry_id, "published") == "“已归档”的条目须先提交审核，审核通过后才能发布"


# -- the review list -------------------------------------------------------------------

def test_a_lawyers_draft_appears_in_the_review_list_with_its_ticket_link(kb_console):
    kb_console.add("zhang", name="张律师")
    tid = kb_console.ticket(f"公司拖欠工资不发怎么办{XSS}")
    lawyer = kb_console.login("zhang")
    post(lawyer, f"/lawyer/tickets/{tid}/claim", f"/lawyer/tickets/{tid}")
    post(lawyer, f"/lawyer/tickets/{tid}/reply", f"/lawyer/tickets/{tid}", text="可以向劳动监察大队投诉。")
    post(lawyer, f"/lawyer/tickets/{tid}/draft", f"/lawyer/tickets/{tid}",
         question=f"单位拖欠工资去哪里投诉{XSS}", answer="可以向劳动监察大队投诉。")
    entry_id = kb_console.row(tid).kb_entry_id
    page = admin(kb_console).get("/admin/review").text
    drafts = page[page.index('id="review-drafts"'):]
    assert f'href="/admin/kb/{entry_id}"' in drafts
    assert f'href="/lawyer/tickets/{tid}"' in drafts and kb_console.row(tid).ticket_no in drafts
    assert "作者：张律师" in drafts
    assert XSS not in page and "单位拖欠工资去哪里投诉&lt;script&gt;" in drafts


def test_entries_in_review_are_listed_and_the_authors_own_are_marked(kb_console):
    add_article(kb_console)
    a = admin(kb_console)
    entry_id = create(a, intent="review")
    mine = a.get("/admin/review").text
    waiting = mine[mine.index('id="review-waiting"'):mine.index('id="review-drafts"')]
    assert f'href="/admin/kb/{entry_id}"' in waiting and "需由另一位管理员审核发布" in waiting
    other = admin(kb_console, "li", "李主任").get("/admin/review").text
    assert f'href="/admin/kb/{entry_id}"' in other and "需由另一位管理员审核发布" not in other


# -- browsing ---------------------------------------------------------------------------

def test_the_list_searches_the_full_text_and_filters(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    entry_id = create(browser, region="北京市海淀区")
    ids = lambda html: [int(i) for i in re.findall(r'<a class="ticket-link" href="/admin/kb/(\d+)"', html)]
    assert ids(browser.get("/admin/kb", params={"q": "超过协议原定数额"}).text) == [entry_id]
    assert ids(browser.get("/admin/kb", params={"q": "抚养费", "status": "draft", "kind": "faq",
                                               "category": "婚姻家庭", "region": "海淀"}).text) == [entry_id]
    assert entry_id in ids(browser.get("/admin/kb", params={"law": "《中华人民共和国民法典》", "status": "draft"}).text)
    assert entry_id not in ids(browser.get("/admin/kb", params={"law": "劳动法"}).text)
    assert entry_id not in ids(browser.get("/admin/kb", params={"status": "published"}).text)
    assert entry_id in ids(browser.get("/admin/kb", params={"from": "2000-01-01", "to": "2099-12-31"}).text)
    assert entry_id not in ids(browser.get("/admin/kb", params={"to": "2001-01-01"}).text)
    assert "日期格式应为 YYYY-MM-DD" in browser.get("/admin/kb", params={"from": "昨天"}).text


def test_the_list_pages_through_every_entry(kb_console):
    browser = admin(kb_console)
    total = entries(kb_console)
    first = browser.get("/admin/kb").text
    assert f"{total} 条" in first and "下一页" in first
    seen: set[str] = set()
    url = "/admin/kb"
    while url:
        html = browser.get(url).text
        seen |= set(re.findall(r'<a class="ticket-link" href="/admin/kb/(\d+)"', html))
        nxt = re.search(r'<a class="kb-btn" href="([^"]+)" rel="next">', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    assert len(seen) == total


def test_flagged_entries_are_listed_with_their_reason_and_an_edit_link(kb_console):
    add_article(kb_console)
    _, entry_id = kb_store(kb_console).upsert(EntryData(kind="faq", external_id="old-law", question="老问题",
                                                        answer="依照婚姻法处理。", category="婚姻家庭",
                                                        citations=[{"law": "婚姻法", "article": 32}]))
    browser = admin(kb_console)
    page = browser.get("/admin/kb/flagged").text
    row = page[page.index(f"<span class=\"no\">#{entry_id}</span>"):]
    row = row[:row.index("</li>\n  <li") if "</li>\n  <li" in row else len(row)]
    assert "old-law" in row and "《婚姻法》已于 2021-01-01 废止，应改引《民法典》" in row
    assert f'href="/admin/kb/{entry_id}/edit"' in row
    flagged = browser.get("/admin/kb", params={"flagged": "1", "q": "老问题"}).text
    assert f'href="/admin/kb/{entry_id}"' in flagged and "引用待修改" in flagged


# -- who may use them, and escaping -------------------------------------------------

def test_a_lawyer_gets_403_on_every_knowledge_base_route(kb_console):
    kb_console.add("zhang")
    lawyer = kb_console.login("zhang")
    token = csrf_of(lawyer.get("/lawyer/").text)
    entry_id = kb_store(kb_console).list(limit=1)[0].id
    before = kb_store(kb_console).revision()
    routes = [(m, p) for m, p in console_routes(kb_console.app) if p.startswith(("/admin/kb", "/admin/review"))]
    assert len(routes) >= 14
    for method, path in routes:
        url = path.replace("{entry_id}", str(entry_id)).replace("{token}", "x" * 24)
        r = lawyer.request(method, url, data={"csrf_token": token, "target": "archived"} if method == "POST" else None,
                           follow_redirects=False)
        assert r.status_code == 403 and "没有权限" in r.text, (method, path)
    assert kb_store(kb_console).revision() == before


def test_script_in_an_entry_is_shown_as_text_on_every_page(kb_console):
    add_article(kb_console)
    browser = admin(kb_console)
    entry_id = create(browser, question=f"问题{XSS}", answer=f"答案{XSS}", region="北京", tags=f"标签{XSS}")
    post(browser, f"/admin/kb/{entry_id}/edit", f"/admin/kb/{entry_id}/edit",
         **(FAQ | {"question": f"问题{XSS}", "answer": f"新答案{XSS}", "region": "北京"}))
    pages = [f"/admin/kb/{entry_id}", f"/admin/kb/{entry_id}/edit", f"/admin/kb/{entry_id}?old=1&new=2",
             "/admin/kb?q=%3Cscript%3E"]
    for url in pages:
        html = browser.get(url).text
        assert XSS not in html and "&lt;script&gt;" in html, url
    bad = send(browser, "/admin/kb/new", "/admin/kb/new", **(FAQ | {"category": XSS, "answer": XSS}))
    assert bad.status_code == 400 and XSS not in bad.text


# -- PostgreSQL --------------------------------------------------------------------------

@pytest.fixture
def pg_kb_console(pg_url, tmp_path):
    """The console with its knowledge base (the seed), index and assistant on PostgreSQL."""
    from api.app import create_app
    from api.settings import Settings
    from assistant.service import open_assistant

    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, embed_model="hashing",
                        wechat_token="console-test")
    assistant = open_assistant(settings, progress=lambda _m: None, show_progress=False)
    app = create_app(settings, assistant=assistant)
    with TestClient(app) as client:
        yield Console(app, client, settings, assistant)
    assistant.store.engine.dispose()


@pytest.mark.postgres
def test_searching_reviewing_and_restoring_work_on_postgresql(pg_kb_console):
    add_article(pg_kb_console)
    a, b = admin(pg_kb_console), admin(pg_kb_console, "li", "李主任")
    entry_id = create(a, intent="review", region="上海市")
    ids = lambda html: [int(i) for i in re.findall(r'<a class="ticket-link" href="/admin/kb/(\d+)"', html)]
    found = a.get("/admin/kb", params={"q": "超过协议原定数额", "law": "民法典", "region": "上海",
                                       "from": "2000-01-01", "to": "2099-12-31", "status": "in_review"}).text
    assert ids(found) == [entry_id]
    assert f'href="/admin/kb/{entry_id}"' in a.get("/admin/review").text
    assert move(a, entry_id, "published").startswith("不能审核发布自己编写的条目")
    assert move(b, entry_id, "published").startswith("已发布")
    flagged = a.get("/admin/kb", params={"flagged": "1"}).text
    assert ids(flagged) and entry_id not in ids(flagged)  # the seed cites articles not loaded here
    html = post(b, f"/admin/kb/{entry_id}/restore", f"/admin/kb/{entry_id}", version="1", mode="draft")
    assert flash_of(html).startswith("第 1 版已恢复为待审核的修改")
    assert 'id="kb-pending"' in a.get(f"/admin/kb/{entry_id}").text
    assert "<h3>状态</h3>" in a.get(f"/admin/kb/{entry_id}?old=3&new=4").text


def test_with_no_article_loaded_the_flagged_list_says_citations_cannot_be_checked(kb_console):
    html = admin(kb_console).get("/admin/kb/flagged").text
    assert 'id="kb-no-articles"' in html and "尚未导入法条" in html
    add_article(kb_console)
    assert 'id="kb-no-articles"' not in admin(kb_console, "li", "李主任").get("/admin/kb/flagged").text
