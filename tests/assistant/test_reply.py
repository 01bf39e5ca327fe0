"""Reply text: citations, the WeChat 2048-byte limit."""
from assistant.reply import WECHAT_MAX_BYTES, citations_line, split_message


def test_short_text_is_one_message():
    assert split_message("您好。") == ["您好。"]


def test_long_text_is_split_at_sentence_ends_within_2048_bytes():
    sentences = [f"第{i}句：用人单位应当按照劳动合同约定和国家规定，及时足额支付劳动报酬。" for i in range(80)]
    text = "".join(sentences)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= WECHAT_MAX_BYTES for p in parts)
    assert all(p.endswith("。") for p in parts)
    assert "".join(parts) == text


def test_a_single_sentence_longer_than_a_message_is_cut_cleanly():
    text = "欠" * 3000  # 9000 bytes, no sentence end anywhere
    parts = split_message(text)
    assert all(len(p.encode("utf-8")) <= WECHAT_MAX_BYTES for p in parts)
    assert "".join(parts) == text
    assert all(p.encode("utf-8").decode("utf-8") == p for p in parts)


def test_mixed_width_text_respects_bytes_not_characters():
    text = ("abc😀中文。" * 400)
    parts = split_message(text, limit=100)
    assert all(len(p.encode("utf-8")) <= 100 for p in parts)
    assert "".join(parts) == text


def test_citations_render_as_book_title_and_article():
    line = citations_line([{"law": "民法典", "article": 1079}, {"law": "劳动合同法", "article": 82}])
    assert line == "法律依据：《民法典》第一千零七十九条、《劳动合同法》第八十二条"
