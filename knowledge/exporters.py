"""Export the knowledge base as JSONL or XLSX, in the fields the importer reads back.

An export re-imports without changes: every content field and the status are written
(lists as JSON arrays; in a spreadsheet cell as JSON text), and an empty source stays empty.
``entry_id`` and ``entry_version`` are for reading only; rows are matched by kind and
external id, so an entry without an external id would come back as a new one.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge.store import KnowledgeStore, to_data
from knowledge.taxonomy import Status

COLUMNS = ("kind", "external_id", "status", "category", "title", "question", "alt_questions", "answer",
           "facts", "judgment", "reasoning", "law", "article_no", "text", "version", "citations", "tags",
           "region", "source", "entry_id", "entry_version")


class ExportFormatError(ValueError):
    """A file name the exporter cannot write."""


def export_rows(store: KnowledgeStore, kind: str | None = None,
                status: Status | None = None) -> Iterator[dict[str, Any]]:
    for entry in store.iter_entries(status=status, kind=kind):
        row = to_data(entry).model_dump(mode="json")
        row.update(entry_id=entry.id, entry_version=entry.current_version)
        yield {name: row[name] for name in COLUMNS}


def export_file(store: KnowledgeStore, path: Path, kind: str | None = None,
                status: Status | None = None) -> int:
    """Write the entries (all, or of one kind or status) to ``path``; how many were written."""
    suffix = path.suffix.lower()
    rows = export_rows(store, kind, status)
    if suffix in (".jsonl", ".ndjson"):
        count = 0
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        return count
    if suffix == ".xlsx":
        return _write_xlsx(path, rows)
    raise ExportFormatError(f"{path.name}: expected a .jsonl or .xlsx file")


def _write_xlsx(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("知识库")
    sheet.append(list(COLUMNS))
    count = 0
    for row in rows:
        sheet.append([json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for v in row.values()])
        count += 1
    book.save(path)
    return count
