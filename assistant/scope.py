"""Areas of law the knowledge base does not cover, recognised in a resident's words.

A question about criminal defence, company law, IP, ... must reach a lawyer of that area
instead of a near-topic civil FAQ that happens to share a keyword. The area decides the
ticket's category; an entry we wrote for that very area (e.g. 报案 orientation under 刑事)
may still answer.
"""
from __future__ import annotations

import re

# Area -> phrases that place a question in it. Checked in order: the first area wins.
_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("刑事", (
        "判刑", "坐牢", "蹲监狱", "刑事", "取保候审", "看守所", "逮捕", "批捕", "量刑", "缓刑", "刑期",
        "减刑", "假释", "自首", "公诉", "犯罪", "罪名", "构成.{0,4}罪", "什么罪", "罪吗", "定罪", "判几年",
        "判多久", "判多少年", "立案侦查", "嫌疑人", "检察院", "辩护", "刑拘", "监视居住", "前科",
        "诈骗罪", "盗窃罪", "贩毒", "吸毒", "赌博", "非法集资", "传销", "洗钱", "行贿", "受贿", "贪污",
        "强奸", "猥亵", "卖淫", "嫖娼", "醉驾", "危险驾驶", "寻衅滋事", "故意伤害", "轻伤", "重伤",
    )),
    ("公司企业", (
        "股东", "股权", "股份", "注册资本", "法定代表人", "法人代表", "公司注销", "公司章程", "董事",
        "监事", "合伙企业", "合伙人", "个体工商户", "营业执照", "破产", "清算", "分红", "增资", "减资",
    )),
    ("知识产权", ("专利", "商标", "著作权", "版权", "盗版", "抄袭", "侵犯.{0,2}知识产权", "商业秘密", "域名")),
    ("海事海商", ("船舶", "船员", "海运", "提单", "海事", "货代", "集装箱", "船东", "海上")),
    ("征收拆迁", ("拆迁", "征收", "征地", "强拆", "拆除违建", "违章建筑", "违建", "安置房", "补偿安置")),
    ("行政", (
        "行政复议", "行政诉讼", "行政处罚", "政府信息公开", "城管", "信访", "上访", "吊销", "行政许可",
        "交警扣", "罚单", "扣分", "公务员", "事业编", "计划生育",
    )),
    ("建设工程", ("工程款", "建设工程", "施工单位", "施工方", "总包", "分包", "转包", "挂靠", "工程质量",
                  "竣工", "发包", "招投标", "监理")),
    ("医疗纠纷", ("医疗事故", "医疗损害", "误诊", "手术.{0,6}(?:失败|事故|失误|后遗症|感染|弄伤|伤到)",
                  "医院.{0,6}(?:责任|赔|告|过错|失误)", "医生.{0,6}(?:失误|过错)",
                  "病历", "医闹", "整形", "美容院.{0,4}(?:毁容|失败)")),
    ("其他", ("税务", "个税", "偷税", "海关", "出入境", "签证", "国籍", "证券", "期货", "基金")),
)
_PATTERNS = tuple((area, re.compile("|".join(phrases))) for area, phrases in _AREAS)


def area_of(text: str) -> str | None:
    """The uncovered area of law ``text`` belongs to, or None when it is not one of them."""
    for area, pattern in _PATTERNS:
        if pattern.search(text):
            return area
    return None
