"""The command line, end to end, as a separate process on a fresh data dir."""
import json
import os
import subprocess
import sys

import pytest


def fazhi(data_dir, *args, model="hashing", stdin=None, check=True):
    env = os.environ | {"FAZHI_DATA_DIR": str(data_dir), "FAZHI_EMBED_MODEL": model}
    proc = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_a_fresh_data_dir_initialises_itself_and_answers(tmp_path):
    out = fazhi(tmp_path, "ask", "公司拖欠工资不发怎么办", "--json")
    result = json.loads(out.stdout)
    assert {"decision", "confidence", "reply", "candidates"} <= result.keys()
    assert result["decision"] in {"answer", "suggest", "escalate"}
    assert {"id", "external_id", "kind", "title", "score"} <= result["candidates"][0].keys()
    assert "导入内置知识库" in out.stderr and "索引" in out.stderr


def test_import_list_show_and_index_status(tmp_path):
    src = tmp_path / "faq.jsonl"
    src.write_text(json.dumps({"id": "x1", "question": "测试问题：押金不退怎么办", "answer": "可以协商或起诉。",
                               "category": "房屋租赁"}, ensure_ascii=False) + "\n{bad\n", encoding="utf-8")
    out = fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq")
    assert "新增 1" in out.stdout and "第 2 行" in out.stderr
    listed = fazhi(tmp_path, "kb", "list", "--kind", "faq", "--category", "房屋租赁").stdout
    entry_id = next(line.split("\t")[0] for line in listed.splitlines() if "x1" in line)
    shown = json.loads(fazhi(tmp_path, "kb", "show", entry_id).stdout)
    assert shown["external_id"] == "x1" and shown["category"] == "房屋租赁"
    assert fazhi(tmp_path, "index", "status", check=False).returncode == 1  # not built yet
    assert "索引完成" in fazhi(tmp_path, "index", "build").stdout
    status = json.loads(fazhi(tmp_path, "index", "status").stdout)
    assert status["stale"] is False and status["entries"] == 1


def test_bad_arguments_get_a_clear_error(tmp_path):
    out = fazhi(tmp_path, "kb", "import", str(tmp_path / "missing.jsonl"), "--kind", "faq", check=False)
    assert out.returncode == 2 and "错误" in out.stderr
    assert fazhi(tmp_path, "kb", "show", "999", check=False).returncode == 1


def test_eval_prints_metrics_as_json(tmp_path):
    cases = tmp_path / "eval.jsonl"
    cases.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        {"id": "1", "query": "今天天气怎么样", "expect": "decline"},
        {"id": "2", "query": "我要转人工", "expect": "escalate"},
        {"id": "3", "query": "拖欠工资", "relevant": ["seed-faq-laodong-001"]},
    ]), encoding="utf-8")
    report = json.loads(fazhi(tmp_path, "eval", str(cases), "--json").stdout)
    assert report["n"] == 3
    assert {"recall_at_1", "recall_at_5", "mrr", "decisions", "latency_ms"} <= report.keys()
    assert report["decisions"]["escalate"] == {"escalate": 1}
    assert set(report["latency_ms"]) == {"p50", "p95"}


@pytest.mark.slow
def test_chat_with_the_real_model_picks_a_suggestion_by_number(model_root, e5_assistant):
    out = fazhi(model_root, "chat", model="embedded:multilingual-e5-small",
                stdin="你好\n转人工\n离婚\n1\nq\n")
    assert "只能解答法律方面的问题" in out.stdout
    assert "已为您转接人工律师" in out.stdout
