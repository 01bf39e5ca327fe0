"""Normalisation, segmentation and citation rendering."""
from index.normalize import normalize
from index.segment import Segmenter
from knowledge.citation import Citation, chinese_number, parse_chinese_number, parse_citations


def test_traditional_is_converted_to_simplified():
    assert normalize("勞動合同違法解除，離婚後財產怎麼分") == "劳动合同违法解除,离婚后财产怎么分"


def test_fullwidth_becomes_halfwidth_and_noise_goes():
    assert normalize("ＡＢＣ公司　欠我１２３元！！！😀😀") == "ABC公司 欠我123元!"


def test_control_characters_and_whitespace_are_cleaned():
    assert normalize("  老板\u200b不发\t\t工资\n\n怎么办  ") == "老板不发 工资 怎么办"


def test_very_long_messages_are_cut():
    assert len(normalize("欠钱不还" * 1000, max_chars=500)) == 500


def test_legal_dictionary_keeps_terms_whole():
    tokens = Segmenter().load().tokens("离婚冷静期多久，能申请人身安全保护令吗")
    assert "离婚冷静期" in tokens
    assert "人身安全保护令" in tokens


def test_colloquial_phrases_map_to_legal_terms():
    seg = Segmenter().load()
    assert "拖欠工资" in seg.tokens("老板不发工资怎么办")
    assert "交通事故" in seg.tokens("我被车撞了")
    assert "民间借贷" in seg.tokens("朋友欠钱不还")


def test_stopwords_and_punctuation_are_dropped():
    tokens = Segmenter().load().tokens("请问，我该怎么办？")
    assert "请问" not in tokens and "," not in tokens and "？" not in tokens


def test_chinese_article_numbers_round_trip():
    for n in (1, 10, 15, 20, 101, 110, 1000, 1005, 1079, 1260):
        assert parse_chinese_number(chinese_number(n)) == n
    assert chinese_number(1079) == "一千零七十九"
    assert Citation(law="劳动合同法", article=82).render() == "《劳动合同法》第八十二条"


def test_citations_are_parsed_from_text():
    cites = parse_citations("《中华人民共和国民法典》第一千零七十九条：夫妻一方要求离婚…… 又见《民法典》第1079条")
    assert [(c.law, c.article) for c in cites] == [("民法典", 1079)]
