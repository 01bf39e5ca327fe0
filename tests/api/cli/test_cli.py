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


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_ranks_one_kind_only_and_writes_each_case(tmp_path):
    cases = write_jsonl(tmp_path / "eval.jsonl", [{"id": "1", "query": "拖欠工资", "relevant": ["x"]},
                                                  {"id": "2", "query": "离婚后孩子抚养权归谁"}])
    details = tmp_path / "details.jsonl"
    report = json.loads(fazhi(tmp_path / "data", "eval", str(cases), "--kind", "case", "--json",
                              "--details", str(details)).stdout)
    assert report["n"] == 2 and report["kinds"] == ["case"]
    lines = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["1", "2"] and lines[0]["relevant"] == ["x"]
    assert all(c["kind"] == "case" for line in lines for c in line["candidates"])
    assert lines[1]["candidates"] and {"decision", "confidence", "reason", "reply"} <= lines[1].keys()


def pair_files(tmp_path):
    """A shared-like dir with two questions and pair labels on seed entries."""
    shared = tmp_path / "shared"
    shared.mkdir()
    write_jsonl(shared / "faq_test.jsonl", [{"id": "t1", "question": "公司拖欠工资不发怎么办"},
                                            {"id": "t2", "question": "我要转人工"},
                                            {"id": "t3", "question": "离婚后孩子归谁"}])
    labels = write_jsonl(tmp_path / "labels.jsonl", [
        {"query_id": "t1", "entry": "seed-faq-laodong-001", "label": "right", "split": "heldout",
         "source": "faq_test"},
        {"query_id": "t2", "entry": "seed-faq-laodong-001", "label": "wrong", "split": "heldout",
         "source": "faq_test"},
        {"query_id": "t3", "entry": "seed-faq-laodong-001", "label": "wrong", "split": "calib",
         "source": "faq_test"},
    ])
    return shared, labels


def test_eval_measures_pair_labels_with_texts_from_the_shared_dir(tmp_path):
    shared, labels = pair_files(tmp_path)
    details = tmp_path / "details.jsonl"
    out = fazhi(tmp_path / "data", "eval", str(labels), "--shared", str(shared), "--split", "heldout",
                "--details", str(details), "--json")
    pairs = json.loads(out.stdout)["pairs"]
    assert pairs["n"] == 2 and pairs["split"] == "heldout"
    assert sum(pairs["decisions"].values()) == 2 and pairs["decisions"]["escalate"] >= 1  # 转人工
    assert {"precision", "right_or_partial_rate", "answered_unlabelled", "auc", "auc_answered",
            "suggest_hit_rate", "escalation_share", "legal_declined_share"} <= pairs.keys()
    assert len(pairs["bands"]) == 10
    lines = {row["id"]: row for row in map(json.loads, details.read_text(encoding="utf-8").splitlines())}
    assert set(lines) == {"t1", "t2"} and lines["t1"]["query"] == "公司拖欠工资不发怎么办"
    assert "label" in lines["t1"] and "answered_entry" in lines["t1"]


def test_eval_prints_the_pair_report_in_words(tmp_path):
    shared, labels = pair_files(tmp_path)
    out = fazhi(tmp_path / "data", "eval", str(labels), "--shared", str(shared)).stdout
    assert "共 3 题" in out and "AUC" in out and "推荐命中率" in out and "0.9-1.0" in out


def test_a_pair_label_whose_question_cannot_be_found_is_a_clear_error(tmp_path):
    shared, labels = pair_files(tmp_path)
    with labels.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"query_id": "t404", "entry": "e", "label": "wrong", "source": "faq_test",
                            "split": "calib"}) + "\n")
    out = fazhi(tmp_path / "data", "eval", str(labels), "--shared", str(shared), check=False)
    assert out.returncode == 2 and "错误" in out.stderr and "t404" in out.stderr


@pytest.mark.slow
def test_chat_with_the_real_model_picks_a_suggestion_by_number(model_root, e5_assistant):
    out = fazhi(model_root, "chat", model="embedded:multilingual-e5-small",
                stdin="你好\n转人工\n离婚\n1\nq\n")
    assert "只能解答法律方面的问题" in out.stdout
    assert "已为您转接人工律师" in out.stdout


def _ask(data_dir, question):
    return json.loads(fazhi(data_dir, "ask", question, "--json").stdout)


def test_kb_publish_and_restore_take_effect_for_ask_at_once(tmp_path):
    question = "宠物狗咬伤邻居小孩谁来赔偿"
    src = tmp_path / "faq.jsonl"
    row = {"id": "dog", "question": question, "category": "人身损害", "answer": "旧答案：饲养人承担侵权责任。"}
    src.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq")
    assert "旧答案" in _ask(tmp_path, question)["reply"]  # builds the index
    src.write_text(json.dumps(row | {"answer": "新答案：动物饲养人或者管理人应当承担侵权责任。"},
                              ensure_ascii=False), encoding="utf-8")
    fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq", "--status", "draft", "--as", "alice")
    assert _ask(tmp_path, question)["decision"] != "answer"  # a draft is not answered from
    out = fazhi(tmp_path, "kb", "publish", "dog", "--as", "bob")
    assert "第 3 版" in out.stdout
    result = _ask(tmp_path, question)
    assert result["decision"] == "answer" and "新答案" in result["reply"]
    fazhi(tmp_path, "kb", "restore", "dog", "1", "--publish")
    assert "旧答案" in _ask(tmp_path, question)["reply"]
    history = fazhi(tmp_path, "kb", "history", "dog").stdout.splitlines()
    assert [line.split("\t")[3:5] for line in history] == [
        ["import", "cli"], ["import", "alice"], ["status", "bob"], ["restore", "cli"]]
    assert history[-1].startswith("*4")
    assert "-旧答案" in fazhi(tmp_path, "kb", "diff", "dog", "1", "2").stdout


def test_kb_restore_of_a_published_entry_waits_as_its_pending_edit_until_kb_publish(tmp_path):
    question = "宠物狗咬伤邻居小孩谁来赔偿"
    src = tmp_path / "faq.jsonl"
    row = {"id": "dog", "question": question, "category": "人身损害", "answer": "旧答案：饲养人承担侵权责任。"}
    src.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq")
    src.write_text(json.dumps(row | {"answer": "新答案：动物饲养人或者管理人应当承担侵权责任。"},
                              ensure_ascii=False), encoding="utf-8")
    fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq")  # v2, published
    out = fazhi(tmp_path, "kb", "restore", "dog", "1", "--as", "alice")
    assert "待审核的修改（草稿，已发布的内容不变），第 3 版" in out.stdout
    assert "新答案" in _ask(tmp_path, question)["reply"]  # still the published text
    history = fazhi(tmp_path, "kb", "history", "dog").stdout.splitlines()
    assert history[1].startswith("*2") and history[2].startswith("+3") and "待审核的修改" in history[2]
    fazhi(tmp_path, "kb", "publish", "dog", "--as", "bob")
    assert "旧答案" in _ask(tmp_path, question)["reply"]


def test_kb_import_dry_run_writes_nothing(tmp_path):
    src = tmp_path / "faq.jsonl"
    src.write_text(json.dumps({"id": "d1", "question": "押金不退", "answer": "协商。"}, ensure_ascii=False)
                   + "\n{bad\n", encoding="utf-8")
    out = fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq", "--dry-run")
    assert "试运行" in out.stdout and "将新增 1" in out.stdout and "第 2 行" in out.stderr
    assert "共 0 条" in fazhi(tmp_path, "kb", "list").stderr


def test_kb_check_lists_flagged_entries_and_fails(tmp_path):
    src = tmp_path / "faq.jsonl"
    src.write_text(json.dumps({"id": "old-law", "question": "违约金怎么算", "answer": "答。",
                               "citations": ["《合同法》第一百一十四条"]}, ensure_ascii=False), encoding="utf-8")
    imported = fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq")
    assert "警告 1" in imported.stdout and "废止" in imported.stderr
    out = fazhi(tmp_path, "kb", "check", check=False)
    assert out.returncode == 1
    [line] = out.stdout.splitlines()
    entry_id, external_id, reason = line.split("\t")
    assert entry_id.isdigit() and external_id == "old-law" and "《合同法》已于 2021-01-01 废止" in reason


def test_kb_export_re_imports_without_changes(tmp_path):
    src = tmp_path / "faq.jsonl"
    src.write_text(json.dumps({"id": "e1", "question": "押金不退", "answer": "协商。"}, ensure_ascii=False),
                   encoding="utf-8")
    fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq", "--status", "draft")
    fazhi(tmp_path, "kb", "publish", "e1")
    for name in ("kb.jsonl", "kb.xlsx"):
        assert "已导出 1 条" in fazhi(tmp_path, "kb", "export", str(tmp_path / name)).stdout
        out = fazhi(tmp_path, "kb", "import", str(tmp_path / name))
        assert "新增 0，更新 0，未变 1" in out.stdout


def test_a_publish_the_workflow_refuses_gets_a_clear_error(tmp_path):
    src = tmp_path / "faq.jsonl"
    src.write_text(json.dumps({"id": "p1", "question": "押金不退", "answer": "协商。"}, ensure_ascii=False),
                   encoding="utf-8")
    fazhi(tmp_path, "kb", "import", str(src), "--kind", "faq")
    out = fazhi(tmp_path, "kb", "publish", "p1", check=False)  # already published
    assert out.returncode == 2 and "不能改为" in out.stderr
    assert fazhi(tmp_path, "kb", "restore", "p1", "7", check=False).returncode == 2
