"""Place imported material in the fixed taxonomy when the source does not use it."""
from __future__ import annotations

from knowledge.taxonomy import DEFAULT_CATEGORY

# Source categories seen in public legal data sets, mapped onto ours.
SOURCE_CATEGORIES: dict[str, str] = {
    "劳动人事": "劳动争议", "劳动争议/工资": "劳动争议", "劳动工伤": "工伤",
    "消费购物": "消费维权", "婚姻家庭/离婚/抚养": "婚姻家庭", "房屋租赁/买卖": "房屋租赁",
    "借贷/债务": "民间借贷", "行政协议诉讼": "诉讼程序", "刑事": "刑事", "民法典": "其他",
}

# Whole laws that belong to one category (matched by substring of the law's name).
LAW_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("工伤", "工伤"), ("劳动", "劳动争议"), ("就业促进", "劳动争议"), ("社会保险", "社会保险"),
    ("农民工工资", "劳动争议"), ("带薪年休假", "劳动争议"), ("婚姻家庭", "婚姻家庭"),
    ("反家庭暴力", "婚姻家庭"), ("继承", "继承"), ("民间借贷", "民间借贷"), ("租赁", "房屋租赁"),
    ("物业", "房产物业"), ("房地产", "房产物业"), ("商品房", "房产物业"), ("房屋征收", "征收拆迁"),
    ("治安管理", "行政"),
    ("道路交通", "交通事故"), ("消费", "消费维权"), ("食品", "消费维权"), ("产品质量", "消费维权"),
    ("电子商务", "消费维权"), ("人身损害", "人身损害"), ("精神损害", "人身损害"),
    ("侵权责任", "人身损害"), ("医疗纠纷", "医疗纠纷"), ("法律援助", "法律援助"),
    ("民事诉讼", "诉讼程序"), ("诉讼时效", "诉讼程序"), ("人民调解", "诉讼程序"), ("公证", "诉讼程序"),
)

# 民法典 by article range: its books map onto several categories.
CIVIL_CODE_RANGES: tuple[tuple[int, int, str], ...] = (
    (667, 680, "民间借贷"), (703, 734, "房屋租赁"), (937, 950, "房产物业"),
    (271, 287, "房产物业"), (1040, 1118, "婚姻家庭"), (1119, 1163, "继承"),
    (1164, 1258, "人身损害"), (188, 199, "诉讼程序"),
)


def from_source(value: str | None) -> str:
    """Our category for a source's; an unknown one is kept so that validation reports it."""
    value = (value or "").strip()
    if not value:
        return DEFAULT_CATEGORY
    return SOURCE_CATEGORIES.get(value, value)


def for_article(law: str, article_no: int | None) -> str:
    if law == "民法典" and article_no:
        for low, high, category in CIVIL_CODE_RANGES:
            if low <= article_no <= high:
                return category
        return DEFAULT_CATEGORY
    for needle, category in LAW_CATEGORIES:
        if needle in law:
            return category
    return DEFAULT_CATEGORY
