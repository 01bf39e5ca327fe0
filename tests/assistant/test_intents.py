"""What must not wait for retrieval: emergencies and requests for a person.

Danger happening or threatened now is an emergency; a question about a past event is not,
so that it still reaches the knowledge base. A request addressed to us for a person
escalates; a question that merely mentions lawyers does not.
"""
import pytest

from assistant import intents


@pytest.mark.parametrize("text", [
    "我老公现在喝醉了在砸门要打我，我躲在卫生间里",
    "前男友刚发消息说今晚就来杀我全家",
    "我刚吃了一整瓶安眠药，现在有点后悔了",
    "室友说要从楼上跳下去，已经坐到窗台上了",
    "我女儿放学没回家，有人打电话说绑了她，要五十万",
    "有人在我家门口泼了汽油，说要烧房子",
    "老公刚才掐着我脖子差点没气了",
    "老板把我们关在厂里宿舍不让走",
    "我看到有人把一个小孩硬拖上面包车",
    "继父一直对我动手动脚，今晚我妈不在家",
])
def test_danger_now_is_an_emergency(text):
    assert intents.is_emergency(text)


@pytest.mark.parametrize("text", [
    "我被人打成轻伤，对方已经被检察院起诉了，能要求赔偿吗",
    "公司要打我工资卡里扣钱，合法吗",
    "我被人诬告，警察已经立案了，我该怎么辩护",
    "公司主管经常说下流话还动手动脚，我该怎么维权",
])
def test_past_events_and_everyday_words_are_not_emergencies(text):
    assert not intents.is_emergency(text)


@pytest.mark.parametrize("text", [
    "转人工", "人工", "人工！人工！", "我要找律师", "别让机器人回了，给我找个真人",
    "能不能让真人律师回答我", "你们这有没有值班的律师，我想跟人说话", "帮我转接一个律师",
])
def test_requests_for_a_person(text):
    assert intents.wants_person(text)


@pytest.mark.parametrize("text", [
    "家里没钱请律师，能申请法律援助吗", "值班律师能帮上什么忙", "律师费由谁承担",
])
def test_questions_that_mention_lawyers_are_not_requests(text):
    assert not intents.wants_person(text)


@pytest.mark.parametrize("text", ["好的，谢谢律师", "谢谢", "收到", "好的谢谢您", "辛苦了！"])
def test_thanks_and_acknowledgements(text):
    assert intents.is_thanks(text)


@pytest.mark.parametrize("text", [
    "谢谢，那加班费怎么算", "好的，我想问一下离婚的事", "谢谢你们上次帮我讨回工资，这次又被拖欠了",
])
def test_a_question_after_thanks_is_still_a_question(text):
    assert not intents.is_thanks(text)


@pytest.mark.parametrize("text", ["你是骗子", "你是个骗人的", "脚踝扭伤了怎么办"])
def test_everyday_uses_of_legal_stems_are_not_legal_vocabulary(text):
    assert not intents.has_legal_terms(text)


@pytest.mark.parametrize("text", ["寄存的东西丢了对方要赔吗", "农田被征用一亩给多少钱", "他经常打骂老人",
                                  "对方违约不退定金", "买的股票停牌了"])
def test_contract_and_property_words_are_legal_vocabulary(text):
    assert intents.has_legal_terms(text)


@pytest.mark.parametrize("text", ["偷了一辆电动车会判几年", "朋友吸毒被抓了怎么办", "酒驾被查驾照还能用吗",
                                  "面包里吃出异物找谁", "合伙开店亏了钱怎么分", "村委换届选举不公平"])
def test_crime_traffic_consumer_and_village_words_are_legal_vocabulary(text):
    assert intents.has_legal_terms(text)


def test_doing_something_secretly_is_not_theft():
    assert not intents.has_legal_terms("偷偷告诉你一个秘密")
