"""Recognise what must not wait for retrieval: emergencies and explicit requests for a
person; and whether a message looks like a legal matter at all."""
from __future__ import annotations

import re
from pathlib import Path

DATA = Path(__file__).parent / "data"

# Present danger to life or body, self-harm, a child at risk. Phrased as happening or
# threatened, so that questions about past events still reach the knowledge base.
_EMERGENCY = re.compile(
    "|".join([
        r"不想活", r"想死", r"去死(?!吧)", r"自杀", r"轻生", r"跳楼", r"割腕", r"寻死", r"结束(?:自己的)?生命",
        r"(?:要|想|扬言|威胁(?:说)?要?)(?:杀|砍|弄死|打死)(?:了)?(?:我|我们|孩子|全家|她|他)",
        r"(?:正在|一直在|又在|现在)(?:打|殴打|砍|掐)(?:我|孩子|我妈|我妈妈)",
        r"(?:拿|持|举)着?(?:刀|棍|枪|斧头)", r"救命", r"被(?:绑架|拐卖|囚禁|关起来|锁在)",
        r"(?:孩子|女儿|儿子|小孩|儿童).{0,6}(?:被打|被虐待|被性侵|失踪|走失|被拐)",
        r"虐待(?:儿童|孩子|小孩)", r"性侵", r"强奸",
        r"家暴.{0,4}(?:正在|现在|打得|受伤|流血|住院)", r"(?:正在|现在).{0,4}家暴",
    ])
)

_HUMAN = re.compile(
    r"^(?:人工|律师|真人)$|转人工|人工(?:客服|服务|咨询|律师|解答)|找(?:个|一个|一位)?律师|"
    r"(?:联系|请|要|找|问|咨询)(?:真人|人工)|律师(?:在吗|帮(?:我|忙)|咨询|接待|解答|回复)|"
    r"(?:联系|找|请)(?:个|一个|一位)?(?:值班)?律师|我要(?:投诉|找人)"
)

# Stems that only legal matters use; any one of them makes a message a legal question
# (the colloquial map in index/ adds the everyday ways of saying the same).
_LEGAL_STEMS = (
    "法", "律", "诉", "判", "赔", "罚", "仲裁", "合同", "协议", "工资", "欠薪", "薪", "社保",
    "辞退", "开除", "裁员", "加班", "工伤", "离婚", "结婚", "婚", "抚养", "赡养", "彩礼", "继承",
    "遗产", "遗嘱", "借", "欠", "债", "利息", "押金", "房东", "租", "物业", "业主", "拆迁",
    "征收", "事故", "撞", "肇事", "保险", "交警", "退货", "退款", "假货", "商家", "消费", "维权",
    "打人", "被打", "伤", "骗", "诈", "报警", "派出所", "公安", "警察", "法院", "起诉", "告",
    "权", "责任", "违法", "犯罪", "拘留", "判刑", "公证", "证据", "老板", "公司", "单位", "员工",
    "劳动", "户口", "宅基地", "土地", "承包", "房产", "过户", "投诉", "侵", "名誉", "隐私",
    "家暴", "孩子归", "监护", "收养", "执行", "老赖", "担保", "纠纷", "调解", "援助",
)


def is_emergency(text: str) -> bool:
    return bool(_EMERGENCY.search(text))


def wants_person(text: str) -> bool:
    return bool(_HUMAN.search(text.strip()))


def has_legal_terms(text: str, mapped_terms: list[str] | None = None) -> bool:
    return bool(mapped_terms) or any(stem in text for stem in _LEGAL_STEMS)


def smalltalk_examples() -> list[str]:
    lines = (DATA / "smalltalk.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
