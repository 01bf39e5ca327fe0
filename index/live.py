"""The index a process answers from, kept current with the database while it serves.

Every change to the knowledge base bumps ``kb_state.revision`` in its own transaction.
``sync`` compares the content hashes of the published entries with those indexed and applies
only the difference: entries removed or changed leave the index, new and changed ones are
segmented, embedded (vectors come from the content-hash cache) and appended.  Each change
builds a new snapshot beside the old one and swaps one reference, so a query runs to the end
on the snapshot it started on and nothing waits.

An incremental change keeps the old average document length and does not re-expand the
articles a changed FAQ cites; a full rebuild, in a background thread while queries go on,
refreshes both and is swapped in the same way.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from index.builder import build_index, index_entries
from index.embedder import Embedder
from index.retriever import LoadedIndex, Retriever
from index.segment import Segmenter
from index.storage import IndexCorrupt, IndexMissing
from knowledge.store import KnowledgeStore
from knowledge.taxonomy import Status

log = logging.getLogger("fazhi.index")


@dataclass(frozen=True)
class Rebuild:
    """A full rebuild: where it is, or how it ended."""

    started_at: float
    stage: str = "准备"
    done: int = 0
    total: int = 0
    finished_at: float | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True)
class IndexStatus:
    revision: int  # the knowledge-base revision the index reflects
    entries: int
    passages: int
    built_at: float  # of the last full build
    changes_since_build: int  # entries changed incrementally since then
    rebuild: Rebuild | None  # the running or the last rebuild of this process


@dataclass(frozen=True)
class SyncResult:
    removed: int
    added: int
    revision: int

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added)


class LiveIndex:
    def __init__(self, store: KnowledgeStore, embedder: Embedder, segmenter: Segmenter,
                 index_dir: Path, cache_dir: Path, max_query_chars: int = 500,
                 rebuild_after: int = 200) -> None:
        self.store, self.embedder, self.segmenter = store, embedder, segmenter
        self.index_dir, self.cache_dir = index_dir, cache_dir
        self.max_query_chars, self.rebuild_after = max_query_chars, rebuild_after
        self._current: Retriever | None = None
        self._changes = 0
        self._lock = threading.Lock()  # one writer at a time; readers never take it
        self._rebuild: Rebuild | None = None
        self._rebuild_thread: threading.Thread | None = None

    # -- reading ------------------------------------------------------------------------
    @property
    def retriever(self) -> Retriever:
        """The current snapshot: take it once per query and use it throughout."""
        if self._current is None:
            raise RuntimeError("LiveIndex.load() has not been called")
        return self._current

    def status(self) -> IndexStatus:
        index = self.retriever.index
        return IndexStatus(index.manifest.kb_revision, len(index.docs), len(index.dense.row_doc),
                           index.manifest.built_at, self._changes, self._rebuild)

    # -- loading and keeping current --------------------------------------------------------
    def load(self, progress: Callable[[str], None] = print, show_progress: bool = True) -> LiveIndex:
        """The index on disk, brought up to date with the database (and saved so when it
        changed); built in full when missing, corrupt or made with another model."""
        try:
            index = LoadedIndex.load(self.index_dir)
            if not index.manifest.fits(self.embedder.name, self.embedder.dim):
                progress("模型或索引格式已变化，正在重建索引 …")
                index = self._build(show_progress)
        except IndexMissing:
            progress("尚无索引，正在建立 …")
            index = self._build(show_progress)
        except (IndexCorrupt, OSError, ValueError, RuntimeError, KeyError) as exc:
            progress(f"索引损坏（{exc}），正在从数据库重建 …")
            index = self._build(show_progress)
        self._install(index)
        if self.sync().changed:
            progress("知识库有更新，已增量更新索引")
            with self._lock:
                self._install(self.retriever.index.save(self.index_dir))
        return self

    def _build(self, show_progress: bool = False,
               on_progress: Callable[[str, int, int], None] | None = None) -> LoadedIndex:
        build_index(self.store, self.embedder, self.segmenter, self.index_dir, self.cache_dir,
                    show_progress, on_progress)
        return LoadedIndex.load(self.index_dir, verify=False)

    def _install(self, index: LoadedIndex) -> None:
        self._current = Retriever(index, self.embedder, self.segmenter, self.max_query_chars)

    def sync(self) -> SyncResult:
        """Apply the knowledge-base changes committed since the indexed revision."""
        with self._lock:
            base = self.retriever.index
            revision = self.store.revision()
            if revision == base.manifest.kb_revision:
                return SyncResult(0, 0, revision)
            published = self.store.published_hashes()
            indexed = {d.entry_id: d.content_hash for d in base.docs}
            stale = {i for i, h in indexed.items() if published.get(i) != h}
            fresh = sorted(i for i, h in published.items() if indexed.get(i) != h)
            entries = [e for _, e in sorted(self.store.get_many(fresh).items())
                       if e.status == Status.PUBLISHED.value]
            if stale or entries:
                self._install(self._replaced(base, stale, entries, revision))
            else:
                self._install(replace(base, manifest=replace(base.manifest, kb_revision=revision)))
            self._changes += len(stale | {e.id for e in entries})
            due = self._changes >= self.rebuild_after
        if stale or entries:
            log.info("index synced to revision %d: %d out, %d in", revision, len(stale), len(entries))
        if due:
            self.start_rebuild()
        return SyncResult(len(stale), len(entries), revision)

    def _replaced(self, base: LoadedIndex, remove: set[int], entries: list, revision: int) -> LoadedIndex:
        built = index_entries(entries, {}, self.embedder, self.segmenter, self.cache_dir)
        return base.replaced(remove | {e.id for e in entries}, built.docs, built.tokens,
                             built.vectors, built.row_doc, revision)

    def preview(self, publish: Iterable[int] = (), remove: Iterable[int] = ()) -> Retriever:
        """A snapshot as if ``publish`` were published (with a pending edit's content where
        one waits) and ``remove`` were not: for seeing what a change would do.  The live one
        is untouched."""
        entries = self.store.as_published(publish)
        base = self.retriever.index
        index = self._replaced(base, set(remove), entries, base.manifest.kb_revision)
        return Retriever(index, self.embedder, self.segmenter, self.max_query_chars)

    # -- full rebuilds in the background -----------------------------------------------------
    def start_rebuild(self) -> bool:
        """Start a full rebuild in a background thread; False when one is running."""
        with self._lock:
            if self._rebuild is not None and self._rebuild.running:
                return False
            self._rebuild = Rebuild(started_at=time.time())
            self._rebuild_thread = threading.Thread(target=self._run_rebuild, name="index-rebuild",
                                                    daemon=True)
            self._rebuild_thread.start()
            return True

    def wait_rebuild(self, timeout_s: float | None = None) -> Rebuild | None:
        thread = self._rebuild_thread
        if thread is not None:
            thread.join(timeout_s)
        return self._rebuild

    def _run_rebuild(self) -> None:
        def step(stage: str, done: int, total: int) -> None:
            if self._rebuild is not None:
                self._rebuild = replace(self._rebuild, stage=stage, done=done, total=total)

        try:
            index = self._build(on_progress=step)
            with self._lock:
                self._install(index)
                self._changes = 0
            self.sync()  # what changed while it ran
            assert self._rebuild is not None
            self._rebuild = replace(self._rebuild, stage="完成", finished_at=time.time())
            log.info("index rebuilt: %d entries", len(index.docs))
        except Exception as exc:  # the old index goes on answering
            log.exception("index rebuild failed")
            assert self._rebuild is not None
            self._rebuild = replace(self._rebuild, finished_at=time.time(), error=str(exc))


class FixedIndex:
    """One snapshot that never changes (a preview, or a test's own retriever)."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def sync(self) -> SyncResult:
        return SyncResult(0, 0, self.retriever.index.manifest.kb_revision)
