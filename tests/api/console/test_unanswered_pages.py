"""/admin/unanswered: residents' unanswered questions (sent through the WeChat simulator)
grouped by meaning, a draft written from a group and, once published, answering the next such
question; the review tasks of disliked entries; who may use the page."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.wechat.models import InboundMessage
from assistant.dialogue import texts as T
from assistant.learning.models import GroupDraft, ReviewTask, TaskStatus
from assistant.queue.models import Ticket
from knowledge.models import Entry
from knowledge.timeutil import utcnow
from knowledge.workflow import Actor
from tests.api.console.unanswered_env import (  # noqa: F401  (loop_env_fixture: the loop_env fixture)
    DRONE,
    LAWYER_ANSWER,
    PET,
    PET_NEXT,
    LoopEnv,
    group_forms,
    loop_env_fixture,
)
from tests.helpers import XSS, csrf_of, flash_of

PAGE = "/admin/unanswered"


def ids_of(env: LoopEnv, texts: list[str]) -> set[int]:
    return {m.id for m in env.inbound() if m.content in texts}


def draft(client, ids: list[int]):
    return client.post(f"{PAGE}/draft", data={"csrf_token": csrf_of(client.get(PAGE).text),
                                               "ids": ",".join(map(str, ids))}, follow_redirects=True)


def answer_ticket_of(env: LoopEnv, question: str, text: str) -> str:
    """A lawyer claims and answers the ticket the question's escalation opened."""
    [row] = [m for m in env.inbound() if m.content == question]
    assert row.decision == "escalate" and row.ticket_no
    with Session(env.engine) as s:
        ticket_id = s.scalar(select(Ticket.id).where(Ticket.ticket_no == row.ticket_no))
    lawyer = env.add("zhang", role="lawyer", name="张律师")
    env.app.state.desk.claim(ticket_id, lawyer)
    env.app.state.desk.reply(ticket_id, lawyer, text)
    return row.ticket_no


def entry(env: LoopEnv, entry_id: int) -> Entry:
    with Session(env.engine) as s:
        return s.get(Entry, entry_id)


def test_repeated_unanswered_questions_form_one_group_and_another_topic_another(loop_env):
    env = loop_env
    env.ask(PET, "pet")
    env.ask(DRONE, "drone")
    env.add("boss")
    page = env.login("boss").get(PAGE).text
    groups = {rep: set(ids) for rep, ids in group_forms(page)}
    assert sorted(groups.values(), key=min) == [ids_of(env, PET), ids_of(env, DRONE)]
    assert set(groups) <= set(PET) | set(DRONE)
    assert page.count("3 次提问") == 2 and "3 位居民" in page


def test_the_draft_from_a_group_carries_its_questions_as_alternatives_and_a_lawyers_reply_as_the_answer(loop_env):
    env = loop_env
    env.ask(PET, "pet")
    ticket_no = answer_ticket_of(env, PET[1], LAWYER_ANSWER)
    env.add("boss")
    boss = env.login("boss")
    [(_rep, ids)] = group_forms(boss.get(PAGE).text)
    r = draft(boss, ids)
    entry_id = int(re.fullmatch(r".*/admin/kb/(\d+)", str(r.url)).group(1))
    e = entry(env, entry_id)
    assert (e.kind, e.status) == ("faq", "draft")
    assert {e.question, *e.alt_questions} == set(PET) and e.question not in e.alt_questions
    assert e.answer == LAWYER_ANSWER and ticket_no in e.source
    assert "已由 3 条提问生成草稿" in r.text  # the flash, on the entry page


def test_a_group_without_a_lawyers_reply_gets_an_answer_to_write(loop_env):
    env = loop_env
    env.ask(DRONE, "drone")
    env.add("boss")
    boss = env.login("boss")
    [(_rep, ids)] = group_forms(boss.get(PAGE).text)
    entry_id = int(str(draft(boss, ids).url).rsplit("/", 1)[1])
    assert entry(env, entry_id).answer.startswith("（待撰写）")


def test_a_published_draft_answers_the_next_such_question(loop_env):
    env = loop_env
    env.ask(PET, "pet")
    answer_ticket_of(env, PET[0], LAWYER_ANSWER)
    before = env.assistant.respond(PET_NEXT)
    assert before.decision.value == "escalate"
    env.add("boss")
    boss = env.login("boss")
    [(_rep, ids)] = group_forms(boss.get(PAGE).text)
    entry_id = int(str(draft(boss, ids).url).rsplit("/", 1)[1])
    workflow = env.app.state.workflow
    workflow.submit(entry_id, Actor("boss"))
    workflow.publish(entry_id, Actor("chief"))  # a second admin reviews it
    env.assistant.refresh()
    reply = env.sim.send_text("o_pet_next", PET_NEXT).reply
    assert reply.startswith(LAWYER_ANSWER[:20]) and T.RATING_PROMPT in reply
    [row] = [m for m in env.inbound() if m.content == PET_NEXT]
    assert (row.decision, row.entry_id) == ("answer", entry_id)


def test_a_second_draft_from_the_same_group_opens_the_first(loop_env):
    env = loop_env
    env.ask(PET, "pet")
    env.add("boss")
    boss = env.login("boss")
    [(_rep, ids)] = group_forms(boss.get(PAGE).text)
    first = str(draft(boss, ids).url)
    again = draft(boss, ids)
    assert str(again.url) == first and "这组问题已有草稿" in again.text
    assert env.count(GroupDraft) == 1
    assert f'href="/admin/kb/{first.rsplit("/", 1)[1]}"' in boss.get(PAGE).text


def test_a_lawyer_gets_403(loop_env):
    env = loop_env
    env.ask(PET[:1], "pet")
    env.add("zhang", role="lawyer")
    lawyer = env.login("zhang")
    assert lawyer.get(PAGE).status_code == 403
    token = csrf_of(lawyer.get("/lawyer/").text)
    assert lawyer.post(f"{PAGE}/draft", data={"csrf_token": token, "ids": "1"}).status_code == 403
    assert lawyer.post(f"{PAGE}/tasks/1/close", data={"csrf_token": token}).status_code == 403
    assert env.count(GroupDraft) == 0


def test_a_disliked_entrys_review_task_lists_its_questions_and_reasons_and_an_admin_closes_it(loop_env):
    env = loop_env
    question = "公司拖欠工资怎么办"
    assert T.RATING_PROMPT in env.sim.send_text("o_unhappy", question).reply
    env.sim.send_text("o_unhappy", "1")
    env.sim.send_text("o_unhappy", "2")
    [row] = [m for m in env.inbound() if m.content == question]
    env.add("boss")
    boss = env.login("boss")
    page = boss.get(PAGE).text
    tasks = page[page.index('id="review-tasks"'):page.index('class="learn-groups"')]
    assert f'href="/admin/kb/{row.entry_id}"' in tasks and "1 次不满意" in tasks
    assert question in tasks and "看不懂" in tasks
    with Session(env.engine) as s:
        [task] = s.scalars(select(ReviewTask)).all()
    r = boss.post(f"{PAGE}/tasks/{task.id}/close", data={"csrf_token": csrf_of(page), "note": "已改写答复"},
                   follow_redirects=True)
    assert flash_of(r.text) == "复核任务已关闭"
    assert "目前没有待复核的条目" in boss.get(PAGE).text
    with Session(env.engine) as s:
        assert s.get(ReviewTask, task.id).status == TaskStatus.CLOSED


def test_a_disliked_question_is_among_the_unanswered(loop_env):
    env = loop_env
    env.sim.send_text("o_unhappy", "公司拖欠工资怎么办")
    env.sim.send_text("o_unhappy", "1")
    env.sim.send_text("o_unhappy", "3")
    env.add("boss")
    page = env.login("boss").get(PAGE).text
    groups = page[page.index('class="learn-groups"'):]
    assert "公司拖欠工资怎么办" in groups and "不满意 1" in groups and "我觉得不对 1" in groups


def test_questions_outside_the_date_range_are_left_out(loop_env):
    env = loop_env
    env.ask(DRONE, "drone")
    env.ask(PET, "pet")
    with Session(env.engine) as s, s.begin():
        s.execute(update(InboundMessage).where(InboundMessage.content.in_(DRONE))
                  .values(received_at=utcnow() - timedelta(days=40)))
    env.add("boss")
    boss = env.login("boss")
    assert [set(ids) for _rep, ids in group_forms(boss.get(PAGE).text)] == [ids_of(env, PET)]
    old = (utcnow() - timedelta(days=41)).date().isoformat()
    shown = group_forms(boss.get(PAGE, params={"from": old}).text)
    assert sorted((set(ids) for _rep, ids in shown), key=min) == sorted([ids_of(env, PET), ids_of(env, DRONE)], key=min)


def test_groups_are_paged_largest_first(loop_env, monkeypatch):
    env = loop_env
    env.ask(DRONE[:2], "drone")
    env.ask(PET, "pet")
    monkeypatch.setattr(env.settings.learning, "learning_groups_per_page", 1)
    env.add("boss")
    boss = env.login("boss")
    first = boss.get(PAGE).text
    assert [set(ids) for _r, ids in group_forms(first)] == [ids_of(env, PET)]
    assert "第 1 / 2 页" in first and 'rel="next"' in first
    second = boss.get(PAGE, params={"page": "2"}).text
    assert [set(ids) for _r, ids in group_forms(second)] == [ids_of(env, DRONE[:2])]


def test_numbers_residents_typed_are_masked_and_their_markup_escaped(loop_env):
    env = loop_env
    env.ask([f"{XSS}我的身份证号110101199003071234被人拿去办了宠物医院，能索赔吗"], "pii")
    env.add("boss")
    page = env.login("boss").get(PAGE).text
    assert "110101199003071234" not in page and "110101********1234" in page
    assert XSS not in page and html_lib.escape(XSS) in page
