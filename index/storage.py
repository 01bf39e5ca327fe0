"""On-disk layout of an index: a directory of explicit files plus a manifest.

``<index_dir>/CURRENT`` names the live build directory; a new build is written beside
it and published by atomically replacing CURRENT, so readers never see half an index.
Every file's SHA-256 is in the manifest: a truncated or altered file is detected.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = 2  # 2: documents carry their content hash, BM25 its average length
MANIFEST = "manifest.json"
POINTER = "CURRENT"
STALE_BUILD_S = 3600


class IndexMissing(LookupError):
    """No index has been built in this data dir."""


class IndexCorrupt(ValueError):
    """An index file is missing, altered or unreadable."""


@dataclass
class Manifest:
    model: str
    dimension: int
    entry_count: int
    passage_count: int
    kb_revision: int
    built_at: float = field(default_factory=time.time)
    format: int = FORMAT
    files: dict[str, str] = field(default_factory=dict)

    def fits(self, model: str, dimension: int) -> bool:
        """Made in this format by this model (how current it is, ``LiveIndex.sync`` settles)."""
        return self.format == FORMAT and self.model == model and self.dimension == dimension


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def new_build_dir(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    folder.mkdir()
    return folder


def publish(index_dir: Path, folder: Path, manifest: Manifest) -> None:
    """Seal ``folder`` with its manifest and make it the live index."""
    manifest.files = {p.name: file_sha256(p) for p in sorted(folder.iterdir()) if p.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2))
    tmp = index_dir / f".{POINTER}.{os.getpid()}"
    tmp.write_text(folder.name)
    previous = index_dir / POINTER
    replaced = previous.read_text().strip() if previous.is_file() else None
    os.replace(tmp, previous)
    # The build it replaced, and leftovers of interrupted builds; not a build another
    # process may be writing right now.
    for old in index_dir.glob("build-*"):
        stale = time.time() - old.stat().st_mtime > STALE_BUILD_S
        if old != folder and (old.name == replaced or stale):
            shutil.rmtree(old, ignore_errors=True)


def current_dir(index_dir: Path) -> Path:
    pointer = index_dir / POINTER
    if not pointer.is_file():
        raise IndexMissing(index_dir)
    folder = index_dir / pointer.read_text().strip()
    if not folder.is_dir():
        raise IndexCorrupt(f"{folder} named by {POINTER} does not exist")
    return folder


def read_manifest(folder: Path, verify: bool = True) -> Manifest:
    try:
        manifest = Manifest(**json.loads((folder / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorrupt(f"unreadable manifest in {folder}: {exc}") from exc
    if verify:
        for name, digest in manifest.files.items():
            path = folder / name
            if not path.is_file() or file_sha256(path) != digest:
                raise IndexCorrupt(f"{name} is missing or does not match the manifest")
    return manifest
