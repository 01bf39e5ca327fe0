"""Fixed vocabularies of the knowledge base."""
from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    FAQ = "faq"
    CASE = "case"
    ARTICLE = "article"


class Status(StrEnum):
    """An entry's place in the review workflow (the moves are in ``knowledge.workflow``)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {Status.DRAFT: "草稿", Status.IN_REVIEW: "待审核", Status.PUBLISHED: "已发布",
                 Status.ARCHIVED: "已归档"}


CATEGORIES: tuple[str, ...] = (
    "劳动争议", "工伤", "婚姻家庭", "继承", "民间借贷", "房屋租赁", "房产物业",
    "交通事故", "消费维权", "人身损害", "法律援助", "诉讼程序", "社会保险", "医疗纠纷", "刑事",
    "行政", "征收拆迁", "公司企业", "知识产权", "建设工程", "海事海商", "其他",
)
DEFAULT_CATEGORY = "其他"


class TaxonomyError(ValueError):
    """A value outside the fixed vocabularies."""


def check_category(value: str | None) -> str:
    value = (value or DEFAULT_CATEGORY).strip()
    if value not in CATEGORIES:
        raise TaxonomyError(f"未知分类：{value}（可选：{'、'.join(CATEGORIES)}）")
    return value


def check_kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError as exc:
        raise TaxonomyError(f"unknown kind {value!r}: expected faq, case or article") from exc
