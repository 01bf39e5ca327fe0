"""Import JSONL, CSV and XLSX files into the store, with a field mapping.

A mapping sends each entry field to a source field; dotted paths reach into nested
objects (``sections.基本案情``) and ``a|b`` takes the first non-empty. Without a mapping
the defaults below read our seed format, our export (``knowledge.exporters``) and the
public data sets in ``shared/``.  Bad rows are reported by line number; good rows still
import; re-importing updates.  Rows citing a repealed statute or an article the knowledge
base lacks import with a warning (``knowledge.currency``).  A dry run reports the same,
and what would be created, updated or unchanged, writing nothing.
"""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from knowledge import categorize
from knowledge.citation import Citation, parse_citations
from knowledge.currency import citation_problems
from knowledge.entry import EntryData
from knowledge.store import KnowledgeStore, UpsertResult
from knowledge.taxonomy import Kind, Status, TaxonomyError, check_kind
from knowledge.validation import FIELD_LABELS
from knowledge.versions import Action

DEFAULT_MAPPINGS: dict[Kind, dict[str, str]] = {
    Kind.FAQ: {"external_id": "external_id|id", "title": "title", "question": "question", "answer": "answer",
               "alt_questions": "alt_questions", "category": "category|category_guess",
               "citations": "citations|laws"},
    Kind.CASE: {"external_id": "external_id|id", "title": "title",
                "facts": "facts|sections.基本案情|sections.简要案情|sections.案情回顾",
                "judgment": "judgment|sections.裁判结果|sections.处理结果|sections.法院裁判",
                "reasoning": "reasoning|sections.典型意义|sections.案例分析|sections.裁判理由"
                             "|sections.裁判要旨|sections.裁判要点|sections.法官解读|sections.适用解析",
                "category": "category", "citations": "citations|cited_articles"},
    Kind.ARTICLE: {"external_id": "external_id|id", "law": "law", "article_no": "article_no|article_num",
                   "text": "text", "version": "version", "category": "category"},
}
COMMON_FIELDS = {"tags": "tags", "region": "region", "source": "source"}
BATCH = 500


class ImportFormatError(ValueError):
    """The file or the mapping cannot be read at all."""


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # imported, but to fix
    dry_run: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


def parse_mapping(text: str | None) -> dict[str, str]:
    """``question=q,answer=a`` or a JSON object (inline or a file path)."""
    if not text:
        return {}
    if Path(text).is_file():
        text = Path(text).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"mapping is not valid JSON: {exc}") from exc
        return {str(k): str(v) for k, v in data.items()}
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ImportFormatError("mapping must look like target=source,target=source")
    return {k.strip(): v.strip() for k, v in pairs}


def mapping_fields(kind: Kind | None) -> list[str]:
    """The entry fields a mapping can fill for ``kind`` (None: any kind)."""
    kinds = [kind] if kind is not None else list(Kind)
    names: list[str] = []
    for k in kinds:
        names += [n for n in [*DEFAULT_MAPPINGS[k], *COMMON_FIELDS] if n not in names]
    return names + [n for n in ("kind", "status") if kind is None and n not in names]


def check_mapping(mapping: dict[str, str], kind: Kind | None) -> None:
    """Refuse a mapping onto fields the entries do not have (ImportFormatError)."""
    allowed = set(mapping_fields(kind))
    unknown = [name for name in mapping if name not in allowed]
    if unknown:
        raise ImportFormatError(f"字段映射中有未知字段：{'、'.join(unknown)}"
                                f"（可用：{'、'.join(mapping_fields(kind))}）")
    empty = [name for name, source in mapping.items() if not source.strip()]
    if empty:
        raise ImportFormatError(f"字段映射中 {'、'.join(empty)} 没有写来源列")


def columns_of(path: Path, sample: int = 200) -> list[str]:
    """The source fields of a file, in order of appearance (the header of a CSV or XLSX
    file, the keys of the first ``sample`` JSONL objects): what a mapping can name."""
    names: list[str] = []
    for count, (_line, row, _error) in enumerate(read_rows(path)):
        if count >= sample:
            break
        names += [str(k) for k in row or {} if k and str(k) not in names]
    return names


def _lookup(row: dict[str, Any], spec: str) -> Any:
    for path in spec.split("|"):
        value: Any = row
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, "", []):
            return value
    return None


def _json_list(value: Any) -> Any:
    """A list written into one spreadsheet cell as JSON (as the XLSX export writes it)."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _as_citations(value: Any) -> list[Citation]:
    value = _json_list(value)
    if not value:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[Citation] = []
    for item in value:
        if isinstance(item, dict):
            out.append(Citation.model_validate(item))
        else:
            out.extend(parse_citations(str(item)))
    return out


def _as_list(value: Any) -> list[str]:
    value = _json_list(value)
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in (s.strip() for s in value.replace("；", "|").split("|")) if v]
    return [str(v) for v in value]


def _present(row: dict[str, Any], spec: str) -> bool:
    return any(path.split(".")[0] in row for path in spec.split("|"))


def row_to_entry(row: dict[str, Any], kind: Kind | None, mapping: dict[str, str], status: Status | None,
                 source: str) -> EntryData:
    """One row as an entry: of ``kind`` (None: the row's ``kind``), with ``status`` (None: the
    row's ``status``, else published)."""
    row_kind = row.get("kind") or None
    if kind is None:
        if row_kind is None:
            raise ValueError("缺少 kind（faq、case 或 article），或在命令行用 --kind 指定")
        kind = check_kind(str(row_kind))
    elif row_kind is not None and str(row_kind) != kind.value:
        raise ValueError(f"本行 kind 为 {row_kind}，与导入的 {kind.value} 不一致")
    if status is None:
        try:
            status = Status(row.get("status") or Status.PUBLISHED)
        except ValueError:
            raise ValueError(f"未知状态：{row.get('status')}（可选：{'、'.join(Status)}）") from None
    spec = DEFAULT_MAPPINGS[kind] | COMMON_FIELDS | mapping
    values = {name: _lookup(row, path) for name, path in spec.items()}
    values = {k: v for k, v in values.items() if v is not None}
    if "source" not in values and _present(row, spec["source"]):
        values["source"] = None  # an empty source column stays empty (an export re-imports as it was)
    values["citations"] = _as_citations(values.get("citations"))
    for name in ("alt_questions", "tags"):
        values[name] = _as_list(values.get(name))
    if isinstance(values.get("source"), dict):
        values["source"] = json.dumps(values["source"], ensure_ascii=False)[:500]
    values.setdefault("source", source)
    if values["source"] is None:
        del values["source"]
    if kind is Kind.ARTICLE and values.get("law"):
        values["law"] = str(values["law"]).removeprefix("中华人民共和国")
        if "article_no" in values:
            values["article_no"] = int(values["article_no"])
        values.setdefault("category", categorize.for_article(values["law"], values.get("article_no")))
    values["category"] = categorize.from_source(values.get("category"))
    if kind is Kind.CASE and not values.get("title"):
        values["title"] = str(values.get("facts", ""))[:40]
    return EntryData(kind=kind, status=status, **values)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield (line number, row, error) for each data row of a JSONL, CSV or XLSX file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".jsonl", ".json", ".ndjson"):
        raise ImportFormatError(f"{path.name}: expected a .jsonl, .csv or .xlsx file")
    if suffix == ".xlsx":
        yield from _xlsx_rows(path)
        return
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFormatError(f"cannot open {path}: {exc}") from exc
    with handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, {k: v for k, v in row.items() if k}, None
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"JSON 格式错误：{exc.msg}"
                continue
            if not isinstance(row, dict):
                yield number, None, "每行必须是一个 JSON 对象"
                continue
            yield number, row, None


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a cell: 703, not 703.0
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """The first sheet; its first row names the fields; line numbers are the sheet's rows."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, BadZipFile, InvalidFileException) as exc:
        raise ImportFormatError(f"cannot read {path.name} as XLSX: {exc}") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [(_cell(h) or "").strip() for h in next(rows, ())]
        for number, values in enumerate(rows, start=2):
            row = {name: _cell(v) for name, v in zip(header, values) if name}
            if any(v not in (None, "") for v in row.values()):
                yield number, row, None
    finally:
        book.close()


_PYDANTIC_MESSAGES = {"missing": "缺少此字段", "int_parsing": "应为整数", "int_type": "应为整数",
                      "string_too_long": "过长", "greater_than_equal": "数值过小", "less_than_equal": "数值过大",
                      "list_type": "应为列表", "string_type": "应为文字", "dict_type": "格式不对",
                      "enum": "不是可选的值"}
_MISSING = re.compile(r"^\w+ entry is missing (.+)$")


def _label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return f"{name}（{label}）" if label else name


def _reason(exc: Exception) -> str:
    """Why a row cannot be imported, in Chinese, naming each field as the file does."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for e in exc.errors():
        if e["type"] == "value_error":
            msg = str(e.get("ctx", {}).get("error", e["msg"]))
            if missing := _MISSING.match(msg):
                msg = "缺少必填字段：" + "、".join(_label(f.strip()) for f in missing.group(1).split(","))
        else:
            msg = _PYDANTIC_MESSAGES.get(e["type"], e["msg"])
        where = _label(str(e["loc"][0])) if e["loc"] else ""
        parts.append(f"{where}：{msg}" if where else msg)
    return "；".join(parts)


def import_file(store: KnowledgeStore, path: Path, kind: Kind | None, mapping: dict[str, str] | None = None,
                status: Status | None = Status.PUBLISHED, progress=None, dry_run: bool = False,
                author: str = "system") -> ImportReport:
    """Import ``path`` (``kind`` None: each row names its kind; ``status`` None: each row's
    status, else published).  ``dry_run`` reports the same and writes nothing."""
    report = ImportReport(dry_run=dry_run)
    batch: list[EntryData] = []
    seen: set[tuple[str, str]] = set()
    articles = store.article_keys()

    def flush() -> None:
        if dry_run:
            results = store.preview(batch)
        else:
            results = [r for r, _id in store.upsert_many(batch, author, f"导入 {path.name}", Action.IMPORT)]
        for result in results:
            setattr(report, result.value, getattr(report, result.value) + 1)
        if progress:
            progress(len(batch))
        batch.clear()

    for number, row, error in read_rows(path):
        if error is None and row is not None:
            try:
                entry = row_to_entry(row, kind, mapping or {}, status, source=path.name)
                key = (entry.kind.value, entry.external_id or "")
                if entry.external_id and key in seen:
                    raise ValueError(f"external_id {entry.external_id} 在文件中重复")
                seen.add(key)
                if entry.kind is Kind.ARTICLE and entry.law and entry.article_no:
                    articles.add((entry.law, entry.article_no))  # later rows may cite it
                report.warnings.extend(RowError(number, w) for w in citation_problems(entry, articles))
                batch.append(entry)
            except (ValidationError, ValueError, TaxonomyError, TypeError) as exc:
                error = _reason(exc)
        if error is not None:
            report.errors.append(RowError(number, error))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return report


__all__ = ["ImportReport", "RowError", "ImportFormatError", "import_file", "parse_mapping", "mapping_fields",
           "check_mapping", "columns_of", "UpsertResult"]
