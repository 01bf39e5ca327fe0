"""ORM model of the knowledge base: one table for the three entry kinds."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.db import Base
from knowledge.timeutil import utcnow


class Entry(Base):
    __tablename__ = "kb_entries"
    __table_args__ = (UniqueConstraint("kind", "external_id", name="uq_kb_entries_kind_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    # faq
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    alt_questions: Mapped[list] = mapped_column(JSON, default=list)
    # case
    facts: Mapped[str | None] = mapped_column(Text)
    judgment: Mapped[str | None] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text)
    # article
    law: Mapped[str | None] = mapped_column(String(200))
    article_no: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(64))
    # common
    category: Mapped[str] = mapped_column(String(32), index=True)
    citations: Mapped[list] = mapped_column(JSON, default=list)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    region: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True, default="draft")
    source: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The number of the newest version of the text in this row (the published text, for a
    # published entry): whoever reads the entry's text reads its version in the same row, so an
    # answer can name the exact text it sent.
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    # The newest snapshot of the entry's pending edit, or None (0012; ``knowledge.pending``):
    # a change to a published entry that waits for review while this row keeps the published text.
    pending_version: Mapped[int | None] = mapped_column(Integer)


class EntryVersion(Base):
    """Every change to an entry, as a full snapshot: who, when, why (the knowledge-side audit)."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions_entry_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)  # EntryData without status
    status: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # a knowledge.versions.Action
    author: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # A snapshot of a pending edit (0012): not the entry's text, which stayed as it was; its
    # ``status`` is the edit's own (draft or in_review).
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KbState(Base):
    """Single-row counter bumped on every change: indexes record the revision they saw."""

    __tablename__ = "kb_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
