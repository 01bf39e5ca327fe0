"""``EntryData``: a knowledge-base entry as it crosses a boundary (import, API, CLI)."""
from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, Field, field_validator, model_validator

from knowledge.citation import Citation, chinese_number
from knowledge.taxonomy import Kind, Status, check_category


class EntryData(BaseModel):
    kind: Kind
    external_id: str | None = Field(default=None, max_length=255)
    category: str = "其他"
    title: str = ""
    question: str | None = None
    answer: str | None = None
    alt_questions: list[str] = Field(default_factory=list)
    facts: str | None = None
    judgment: str | None = None
    reasoning: str | None = None
    law: str | None = None
    article_no: int | None = Field(default=None, ge=1)
    text: str | None = None
    version: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    region: str | None = None
    status: Status = Status.PUBLISHED
    source: str | None = None

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return check_category(value)

    @field_validator("alt_questions", "tags")
    @classmethod
    def _clean_list(cls, value: list[str]) -> list[str]:
        return [v.strip() for v in value if v and v.strip()]

    @model_validator(mode="after")
    def _complete_for_kind(self) -> EntryData:
        required = {
            Kind.FAQ: ("question", "answer"),
            Kind.CASE: ("title", "facts"),
            Kind.ARTICLE: ("law", "article_no", "text"),
        }[self.kind]
        missing = [f for f in required if not getattr(self, f)]
        if missing:
            raise ValueError(f"{self.kind.value} entry is missing {', '.join(missing)}")
        if not self.title:
            self.title = (self.question or "") if self.kind is Kind.FAQ else self.article_label()
        self.title = self.title[:500]
        return self

    def article_label(self) -> str:
        return f"《{self.law}》第{chinese_number(self.article_no or 0)}条"

    def content_hash(self) -> str:
        """Hash of everything but status: a status change is not a content change."""
        payload = self.model_dump(mode="json", exclude={"status"})
        raw = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()
