"""Each decision type, with real questions, the real model and the seed knowledge base."""
import pytest

from assistant.outcome import Decision
from assistant.reply import WECHAT_MAX_BYTES

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("question, category", [
    ("公司拖欠工资两个月不发，我该怎么办？", "劳动争议"),
    ("离婚冷静期是多少天", "婚姻家庭"),
    ("上班路上被车撞了算工伤吗", "工伤"),
])
def test_clear_questions_are_answered_with_citations(e5_assistant, question, category):
    outcome = e5_assistant.respond(question)
    assert outcome.decision is Decision.ANSWER, (outcome.confidence, outcome.candidates[:3])
    assert outcome.candidates[0].category == category
    assert "法律依据：《" in outcome.reply and "12348" in outcome.reply
    assert all(len(m.encode("utf-8")) <= WECHAT_MAX_BYTES for m in outcome.messages)


def test_traditional_characters_reach_the_same_answer(e5_assistant):
    simplified = e5_assistant.respond("离婚冷静期是多少天")
    traditional = e5_assistant.respond("離婚冷靜期是多少天")
    assert traditional.answered_entry_id == simplified.answered_entry_id


def test_vague_questions_get_numbered_suggestions(e5_assistant):
    outcome = e5_assistant.respond("离婚孩子抚养")
    assert outcome.decision is Decision.SUGGEST, (outcome.confidence, outcome.candidates[:3])
    assert 2 <= len(outcome.suggestions) <= 3
    assert outcome.reply.startswith("您是不是想问") and "1. " in outcome.reply and "2. " in outcome.reply
    picked = e5_assistant.answer_entry(outcome.suggestions[0].id)
    assert picked.decision is Decision.ANSWER and picked.answered_entry_id == outcome.suggestions[0].id


@pytest.mark.parametrize("question", ["转人工", "我要找律师", "人工"])
def test_explicit_requests_for_a_person_escalate(e5_assistant, question):
    outcome = e5_assistant.respond(question)
    assert (outcome.decision, outcome.reason) == (Decision.ESCALATE, "explicit_request")


def test_legal_questions_beyond_the_knowledge_base_escalate(e5_assistant):
    outcome = e5_assistant.respond("我在境外设立的信托持有的公司股权，在跨境破产程序中能否被认定为破产财产？")
    assert outcome.decision is Decision.ESCALATE, (outcome.confidence, outcome.candidates[:3])
    assert outcome.candidates  # the lawyer still sees what was found


@pytest.mark.parametrize("question", ["今天天气怎么样", "给我讲个笑话", "头疼吃什么药好", "你是机器人吗"])
def test_small_talk_and_other_topics_are_declined(e5_assistant, question):
    outcome = e5_assistant.respond(question)
    assert outcome.decision is Decision.DECLINE, outcome
    assert "法律" in outcome.reply


@pytest.mark.parametrize("question", [
    "我老公拿着刀说要杀了我",
    "我不想活了",
    "邻居家的孩子天天被打，身上都是伤",
])
def test_emergencies_get_hotlines_at_once(e5_assistant, question):
    outcome = e5_assistant.respond(question)
    assert outcome.decision is Decision.EMERGENCY
    assert "110" in outcome.reply and "12348" in outcome.reply


def test_a_follow_up_is_read_with_the_previous_question(e5_assistant):
    first = e5_assistant.respond("上班路上被车撞了算工伤吗")
    follow = e5_assistant.respond("那赔偿怎么算？", history=[first.normalized_query])
    assert "工伤" in follow.normalized_query
    assert follow.decision is not Decision.DECLINE
    assert follow.candidates[0].category in ("工伤", "交通事故")


@pytest.mark.parametrize("question, area", [
    ("我朋友贩毒被抓了，会判几年", "刑事"),
    ("公司股东不分红，小股东怎么起诉", "公司企业"),
])
def test_questions_in_uncovered_areas_go_to_a_lawyer_of_that_area(e5_assistant, question, area):
    outcome = e5_assistant.respond(question)
    assert outcome.decision is Decision.ESCALATE and outcome.area == area


def test_the_first_candidates_are_ranked_by_their_answerability(e5_assistant):
    outcome = e5_assistant.respond("房东不退押金怎么办")
    probs = [c.answerability for c in outcome.candidates[:3]]
    assert all(p is not None for p in probs) and probs == sorted(probs, reverse=True)
    assert outcome.confidence == probs[0]
