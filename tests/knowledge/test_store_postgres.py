"""The knowledge base on PostgreSQL: same migrations, same behaviour."""
import json

import pytest

from api.settings import Settings
from assistant.service import open_assistant, open_store
from knowledge.importers import import_file
from knowledge.taxonomy import Kind

pytestmark = pytest.mark.postgres


def test_import_is_idempotent_and_the_assistant_answers_on_postgres(tmp_path, pg_url):
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, embed_model="hashing")
    store = open_store(settings.storage)
    path = tmp_path / "faq.jsonl"
    path.write_text(json.dumps({"id": "pg1", "question": "房东不退押金怎么办", "category": "房屋租赁",
                                "answer": "先协商；协商不成可以向人民法院起诉。",
                                "citations": [{"law": "民法典", "article": 703}]}, ensure_ascii=False),
                    encoding="utf-8")
    assert import_file(store, path, Kind.FAQ).created == 1
    assert import_file(store, path, Kind.FAQ).unchanged == 1
    assert store.find("faq", "pg1").citations == [{"law": "民法典", "article": 703}]
    assistant = open_assistant(settings, progress=lambda _m: None, show_progress=False)
    outcome = assistant.respond("房东不退押金")
    assert outcome.candidates[0].external_id == "pg1"
    open_store(settings.storage)  # migrating again is a no-op
    assert store.count() == 1
