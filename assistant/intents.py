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
        # self-harm, of the writer or someone with them
        r"不想活", r"活不下去", r"不活了", r"想死", r"去死(?!吧)", r"自杀", r"轻生", r"寻短见", r"想不开",
        r"跳楼", r"跳河", r"跳江", r"跳桥", r"跳下去", r"(?:坐|站|爬)(?:到|在|上)(?:了)?(?:窗台|楼顶|天台|栏杆)",
        r"割腕", r"寻死", r"结束(?:自己的)?生命",
        r"(?:吃|喝|吞|服)(?:了|下)?[^，。！？]{0,6}(?:安眠药|农药|百草枯|老鼠药|敌敌畏)",
        # threats and violence happening now
        r"(?:要|想|来|扬言|威胁|说要|就来|要来)[^，。！？]{0,6}(?:杀|砍|弄死|打死|烧死)(?:了)?(?:我|我们|孩子|全家|她|他|人)",
        r"(?:要|来|又要|还要|想)打(?:死)?(?:我|孩子|我妈|我妈妈)(?!工资|卡|电话|钱|款)",
        r"(?:正在|一直在|又在|现在)(?:打|殴打|砍|掐)(?:我|孩子|我妈|我妈妈)",
        r"掐(?:着)?(?:我|住我|我的)?脖子", r"(?:砸|踹|撬)(?:我家|我的)?门",
        r"(?:拿|持|举)着?(?:刀|棍|枪|斧头)", r"救命", r"泼(?:了)?汽油", r"放火", r"纵火", r"烧(?:房子|死)",
        r"(?:怕|害怕)(?:他|她|他们)?(?:马上|又|再|今晚)?(?:回来|来找我|来打我)",
        # kidnapping, confinement, trafficking
        r"被(?:绑架|拐卖|囚禁|关起来|锁在)", r"绑(?:了|架|走)", r"赎金", r"撕票",
        r"不让(?:我|我们)?(?:走|离开|出去|出门|回家)",
        # a child in danger; sexual violence against the writer
        r"(?:孩子|女儿|儿子|小孩|儿童|女孩|男孩).{0,6}(?:被打|被虐待|被性侵|失踪|走失|被拐)",
        r"(?:孩子|小孩|儿童|女孩|男孩)[^。！？]{0,10}(?:拖上|拽上|抱上|拉上|抢走|拐走)",
        r"虐待(?:儿童|孩子|小孩)", r"性侵", r"被(?:人)?强奸", r"强奸了?我",
        r"(?:继父|养父|后爸|亲戚|叔叔|舅舅|老师|教练)[^。！？]{0,6}(?:动手动脚|摸我|猥亵)",
        r"家暴.{0,4}(?:正在|现在|打得|受伤|流血|住院)", r"(?:正在|现在).{0,4}家暴",
    ])
)

# A request addressed to us for a person, not a question that mentions lawyers ("没钱请律师").
_HUMAN = re.compile("|".join([
    r"^(?:人工|律师|真人|客服)[！!。.]*$", r"转人工", r"转接", r"人工(?:客服|服务|咨询|律师|解答|[！!])",
    r"(?:我要|我想|帮我|给我|请帮我|想)(?:找|请|联系|预约|约)(?:个|一个|一位)?(?:真人|人工|律师|工作人员|客服)",
    r"^(?:找|请)(?:个|一个|一位)?律师", r"(?:让|换)(?:个|一个|一位)?(?:真人|工作人员|客服)", r"真人律师",
    r"律师(?:在吗|帮帮我|接待|回复我)", r"让(?:专业|真人|值班)?律师(?:帮|看|回答)",
    r"有没有(?:值班的?)?律师(?:可以|能|在)?",
    r"(?:不要|别让?|不想跟)机器",
    r"机器(?:人)?(?:回答|回复)太", r"跟(?:真)?人(?:说话|聊|沟通)", r"懂法律的人", r"我要(?:投诉|找人)",
]))

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
    "税", "海关", "专利", "商标", "著作权", "版权", "股权", "股东", "证券", "内幕交易", "执业",
    "行政许可", "审批", "辩护", "诬告", "破产",
    # contracts and property residents name without the words above (calibration part)
    "保管", "寄存", "征用", "打骂", "违约", "定金", "订金", "抵押", "质押", "赠与", "停牌", "停盘",
    # crime, traffic, consumer, village and public-service matters (faq_lawyer_llama questions
    # outside the labelled set that the check declined)
    "罪", "刑", "毒品", "吸毒", "戒毒", "监狱", "看守所", "案底", "保释", "抢劫", "偷", "盗窃",
    "性骚扰", "调戏", "猥亵", "强奸", "殴打", "砍", "赌博", "不当得利", "合伙", "伪造", "招标",
    "投标", "中标", "准生证", "酒驾", "醉驾", "追尾", "驾照", "违章", "扣分", "工期", "医保",
    "五保", "供养", "没收", "补贴", "报废", "异物", "吃出", "变质", "发霉", "缺页", "选举", "选票",
    "村委", "居委会", "许可证", "执照", "加盟", "收房", "漏雨", "漏水", "贷", "分期付款", "转错",
    "出轨",
)


# Thanks and acknowledgements ("好的，谢谢律师"): not a question, and no reason to reopen a ticket.
_THANKS = re.compile(r"^(?:好的|好|嗯|哦|收到|明白了?|知道了|懂了|了解了?|行|可以)?[，,。！!～~ ]*"
                     r"(?:谢谢|感谢|多谢|辛苦了?|麻烦了)?(?:你|您|律师|老师)?(?:了|啦|哈|啊)?[。！!～~ ]*$")


def is_thanks(text: str) -> bool:
    text = text.strip()
    return bool(text) and len(text) <= 16 and bool(_THANKS.match(text))


def is_emergency(text: str) -> bool:
    return bool(_EMERGENCY.search(text))


def wants_person(text: str) -> bool:
    return bool(_HUMAN.search(text.strip()))


# Everyday words that contain a stem ("告诉" has 告 and 诉, "想法" has 法): removed before
# the stems are looked for.
_EVERYDAY_WORDS = re.compile(
    r"告诉|想法|方法|办法|做法|看法|说法|伤心|悲伤|忧伤|感伤|扭伤|定律|规律|旋律|律动|偷偷"
    r"|你(?:是|真是)?(?:个|一个)?骗(?:子|人)")  # "you are a liar", said to the assistant


def has_legal_terms(text: str, mapped_terms: list[str] | None = None) -> bool:
    if mapped_terms:
        return True
    text = _EVERYDAY_WORDS.sub("", text)
    return any(stem in text for stem in _LEGAL_STEMS)


def smalltalk_examples() -> list[str]:
    lines = (DATA / "smalltalk.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
