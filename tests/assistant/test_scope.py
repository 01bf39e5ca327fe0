"""Areas of law the knowledge base does not cover are recognised in residents' words."""
from __future__ import annotations

import pytest

from assistant.scope import area_of


@pytest.mark.parametrize(("text", "area"), [
    ("我弟弟贩毒被抓了会判几年", "刑事"),
    ("取保候审需要交多少保证金", "刑事"),
    ("公司股东不分红怎么起诉", "公司企业"),
    ("别人抢注了我的商标怎么办", "知识产权"),
    ("船运过来的货物在海上受潮了", "海事海商"),
    ("房子拆迁补偿太低能不能不签", "征收拆迁"),
    ("对行政处罚不服可以申请行政复议吗", "行政"),
    ("施工方拖欠工程款不给", "建设工程"),
    ("手术后膀胱被弄伤了医院不承认", "医疗纠纷"),
])
def test_an_uncovered_area_is_named(text, area):
    assert area_of(text) == area


@pytest.mark.parametrize("text", [
    "老板拖欠工资三个月了怎么办", "离婚后孩子抚养权归谁", "房东不退押金", "做完手术单位不给病假工资",
])
def test_questions_in_covered_areas_name_no_area(text):
    assert area_of(text) is None
