"""The knowledge-base pages in a real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright) against the real service on loopback, on its own copy of the knowledge base:
an admin writes a draft, a second admin publishes it, an old version is restored, and the
list, the form, the history and the import dry run are photographed at desktop and phone
width (/tmp/fazhi-shots/kb-*.png)."""
from __future__ import annotations

import itertools
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from api.wechat.testing import WeChatSimulator
from knowledge.entry import EntryData
from knowledge.store import KnowledgeStore
from tests.api.console.test_browser import PHONE, chromium, flash, playwright_api, shots  # noqa: F401
from tests.conftest import WX_APP_ID, WX_APP_SECRET, WX_TOKEN, UvicornThread
from tests.helpers import copy_sqlite

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "kb-browser-pass-2024"
DESKTOP = {"width": 1280, "height": 900}
QUESTION = "离婚后孩子的抚养费可以要求对方增加吗"
OLD_ANSWER = "可以。抚养费协议或判决不妨碍子女在必要时向父母任何一方提出超过原定数额的合理要求。"
NEW_ANSWER = "可以。子女因上学、生病等原因，原定抚养费不足以维持当地实际生活水平的，可以要求增加抚养费。"


@dataclass
class KbService:
    app: FastAPI
    server: UvicornThread
    sim: WeChatSimulator  # residents, through the real webhook

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def store(self) -> KnowledgeStore:
        return self.app.state.store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def kb_service(console_kb, tmp_path) -> Iterator[KbService]:
    """The service on its own copy of the seed knowledge base, index and assistant, with two
    admins (王主任 ``wang``, 李主任 ``li``) and the article the test cites."""
    from assistant.service import open_assistant

    _shared, db = console_kb
    data = tmp_path / "data"
    shutil.copytree(db.parent, data, ignore=shutil.ignore_patterns("fazhi.db*"))
    copy_sqlite(db, data / "fazhi.db")
    settings = Settings(data_dir=data, embed_model="hashing", wechat_token=WX_TOKEN)
    assistant = open_assistant(settings, progress=lambda _m: None, show_progress=False)
    port = _free_port()
    sim = WeChatSimulator(f"http://127.0.0.1:{port}/wechat", WX_TOKEN, WX_APP_ID, WX_APP_SECRET).start()
    app = create_app(settings, assistant=assistant)
    service = KbService(app, UvicornThread(app, port).start(), sim)
    accounts = service.app.state.accounts
    accounts.add("wang", PASSWORD, "王主任", "admin")
    accounts.add("li", PASSWORD, "李主任", "admin")
    service.store.upsert(EntryData(kind="article", law="民法典", article_no=1085, external_id="test-民法典-1085",
                                   text="离婚后，子女由一方直接抚养的，另一方应当负担部分或者全部抚养费。"))
    yield service
    service.server.stop()
    sim.stop()


_residents = itertools.count()


def resident_reads(service: KbService, question: str) -> str:
    """What a new resident is sent for ``question`` through WeChat: the answer, or when the
    assistant offers choices, the answer to the choice with the question's title."""
    openid = f"o_kb_browser_{next(_residents)}"
    reply = service.sim.send_text(openid, question).reply or ""
    for line in reply.splitlines():
        if line.endswith(question) and line[:1].isdigit():
            return service.sim.send_text(openid, line.split(".", 1)[0]).reply or ""
    return reply


def sign_in(chromium, service: KbService, username: str, viewport: dict):  # noqa: F811
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    # CSP violations and script errors (a form re-shown with its errors is a 400: not one of them)
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(service.base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(service.base_url + "/lawyer/")
    return page


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def click(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def fill_faq(page, category: str, citation: str, answer: str = OLD_ANSWER) -> None:
    page.fill("#in-question", QUESTION)
    page.fill("#in-alt_questions", "抚养费能不能多要\n孩子抚养费不够用怎么办")
    page.fill("#in-answer", answer)
    page.fill("#in-citations", citation)
    page.select_option("#in-category", category)


def write_bad_form(page, service: KbService) -> None:
    page.goto(service.base_url + "/admin/kb/new?kind=faq")
    fill_faq(page, "", "《民法典》第9999条")
    click(page, "button[data-action=save-draft]")
    assert "有 2 处需要修改，内容尚未保存" in page.inner_text("#form-errors")
    assert "请选择分类" in page.inner_text("#err-category")
    assert "《民法典》第9999条：知识库中没有这一条文" in page.inner_text("#err-citations")
    assert page.input_value("#in-question") == QUESTION  # kept


def upload_for_dry_run(page, service: KbService, tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("external_id,question,answer,category\n"
                    "b1,浏览器导入的问题一,答案一,劳动争议\n"
                    "b2,浏览器导入的问题二,,劳动争议\n"
                    "b3,浏览器导入的问题三,答案三,外星法\n", encoding="utf-8")
    page.goto(service.base_url + "/admin/kb/import")
    page.set_input_files("input[name=file]", str(path))
    page.select_option("select[name=kind]", "faq")
    click(page, "button[data-action=upload]")
    assert page.inner_text("[data-count=created]") == "1"
    assert page.inner_text("[data-count=errors]") == "2"
    lines = page.inner_text("#dry-run-errors")
    assert "第 3 行" in lines and "第 4 行" in lines


def test_an_admin_drafts_a_second_admin_publishes_and_an_old_version_is_restored(chromium, kb_service, shots,  # noqa: F811
                                                                                 tmp_path):
    service = kb_service
    wang = sign_in(chromium, service, "wang", DESKTOP)
    wang.click("nav.nav-admin >> text=知识库")
    wang.wait_for_url("**/admin/kb")
    assert wang.locator(".kb-row").count() > 10
    shots(wang, "kb-01-list-desktop")
    shots(wang, "kb-01-list-desktop-screen", full_page=False)

    # 王主任 writes a draft: the errors are shown at their fields, then fixed and submitted.
    click(wang, "text=新建问答")
    fill_faq(wang, "", "《民法典》第9999条")
    click(wang, "button[data-action=save-draft]")
    assert "请选择分类" in wang.inner_text("#err-category")
    shots(wang, "kb-02-form-errors-desktop")
    shots(wang, "kb-02-form-errors-desktop-screen", full_page=False)
    wang.select_option("#in-category", "婚姻家庭")
    wang.fill("#in-citations", "《民法典》第1085条")
    click(wang, "button[data-action=save-review]")
    assert "已提交审核" in flash(wang)
    entry_id = int(wang.url.rstrip("/").rsplit("/", 1)[1])
    assert "待审核" in wang.inner_text("#kb-head")

    # The author may not publish it; 李主任 may.
    click(wang, "button[data-action=move-published]")
    assert flash(wang) == "不能审核发布自己编写的条目，请由另一位管理员审核"
    li = sign_in(chromium, service, "li", DESKTOP)
    li.goto(service.base_url + "/admin/review")
    shots(li, "kb-09-review-desktop")
    click(li, f"#review-waiting a[href='/admin/kb/{entry_id}']")
    li.fill("#move-reason", "已核对民法典第1085条")
    click(li, "button[data-action=move-published]")
    assert flash(li).startswith("已发布")
    assert service.store.get(entry_id).status == "published"
    assert OLD_ANSWER in resident_reads(service, QUESTION)  # a resident now gets it through WeChat

    # 李主任 rewords the answer (a pending edit: the published text stays); 王主任 publishes it.
    click(li, "a[data-action=edit]")
    assert "居民仍看到已发布的内容" in li.inner_text("#kb-form-pending")
    li.fill("#in-answer", NEW_ANSWER)
    li.fill("#in-reason", "补充增加抚养费的情形")
    click(li, "button[data-action=save-review]")
    assert service.store.get(entry_id).answer == OLD_ANSWER
    wang.goto(f"{service.base_url}/admin/kb/{entry_id}")
    click(wang, "button[data-action=pending-published]")
    assert flash(wang).startswith("修改已发布")
    assert service.store.get(entry_id).answer == NEW_ANSWER
    assert NEW_ANSWER in resident_reads(service, QUESTION)

    # The history lists every version; the diff shows what changed, side by side.
    click(wang, "#v4 >> text=查看本次改动")
    assert "第 3 版 与 第 4 版 的差异" in wang.inner_text("#diff")
    assert "上学、生病" in wang.inner_text("#diff .diff-new ins")
    assert wang.locator("#kb-versions .kb-version").count() == 6
    assert "补充增加抚养费的情形" in wang.inner_text("#v4")
    shots(wang, "kb-03-entry-history-diff-desktop")

    # 李主任 restores the first version and publishes it (王主任 wrote it, so 李主任 may).
    li.goto(f"{service.base_url}/admin/kb/{entry_id}?restore=1#restore")
    li.check("input[name=mode][value=publish]")
    click(li, "button[data-action=restore]")
    assert flash(li).startswith("第 1 版已恢复并发布")
    assert OLD_ANSWER in li.inner_text("#kb-content")
    entry = service.store.get(entry_id)
    assert (entry.status, entry.answer, entry.current_version) == ("published", OLD_ANSWER, 7)
    assert OLD_ANSWER in resident_reads(service, QUESTION)  # the restored text reaches residents

    upload_for_dry_run(wang, service, tmp_path)
    shots(wang, "kb-04-import-dry-run-desktop")
    assert service.store.find("faq", "b1") is None  # a dry run writes nothing
    assert wang.errors == [] and li.errors == []

    # The same pages on a phone.
    phone = sign_in(chromium, service, "wang", PHONE)
    phone.goto(service.base_url + "/admin/kb")
    fits(phone)
    shots(phone, "kb-05-list-phone")
    shots(phone, "kb-05-list-phone-screen", full_page=False)
    write_bad_form(phone, service)
    fits(phone)
    shots(phone, "kb-06-form-errors-phone")
    shots(phone, "kb-06-form-errors-phone-screen", full_page=False)
    phone.goto(f"{service.base_url}/admin/kb/{entry_id}?old=3&new=4#diff")
    fits(phone)
    shots(phone, "kb-07-entry-history-diff-phone")
    shots(phone, "kb-07-entry-history-diff-phone-screen", full_page=False)
    upload_for_dry_run(phone, service, tmp_path)
    fits(phone)
    shots(phone, "kb-08-import-dry-run-phone")
    shots(phone, "kb-08-import-dry-run-phone-screen", full_page=False)
    assert phone.errors == []


def test_a_pending_edit_is_reviewed_on_the_entry_page_while_the_published_text_stays(
        chromium, kb_service, shots):  # noqa: F811
    service = kb_service
    _, entry_id = service.store.upsert(EntryData(kind="faq", external_id="pending-1", question=QUESTION,
                                                 answer=OLD_ANSWER, category="婚姻家庭",
                                                 citations=[{"law": "民法典", "article": 1085}]), author="li")
    wang = sign_in(chromium, service, "wang", DESKTOP)
    wang.goto(f"{service.base_url}/admin/kb/{entry_id}/edit")
    wang.fill("#in-answer", NEW_ANSWER + "\n协商不成的，可以向人民法院起诉。")
    wang.fill("#in-reason", "补充增加抚养费的情形")
    click(wang, "button[data-action=save-review]")
    assert "已保存为待审核的修改" in flash(wang)
    assert "上学、生病" in wang.inner_text("#kb-pending .diff-new ins")
    assert OLD_ANSWER in wang.inner_text("#kb-content") and NEW_ANSWER not in wang.inner_text("#kb-content")
    assert wang.locator("#kb-versions .kb-version.is-pending").count() == 2
    shots(wang, "kb-10-pending-edit-desktop")
    shots(wang, "kb-10-pending-edit-desktop-screen", full_page=False)

    li = sign_in(chromium, service, "li", PHONE)
    li.goto(service.base_url + "/admin/review")
    assert "修改已发布的条目" in li.inner_text("#review-waiting")
    fits(li)
    shots(li, "kb-12-review-pending-phone", full_page=False)
    click(li, f"#review-waiting a[href='/admin/kb/{entry_id}#kb-pending']")
    fits(li)
    shots(li, "kb-11-pending-edit-phone")
    shots(li, "kb-11-pending-edit-phone-screen", full_page=False)
    click(li, "button[data-action=pending-published]")
    assert flash(li).startswith("修改已发布")
    assert service.store.get(entry_id).answer.startswith(NEW_ANSWER)
    assert wang.errors == [] and li.errors == []
