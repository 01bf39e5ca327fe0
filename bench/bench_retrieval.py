"""Retrieval and decision benchmarks; prints figures to compare across changes.

    python bench/bench_retrieval.py [--part laws|stard|decline|scale|all] [--limit N]

laws     ../shared laws alone, eval_article_dev: MRR / recall of bm25, dense and hybrid
stard    all ../shared laws plus the seed FAQs and cases (whose questions expand the articles
         they cite), articles ranked alone, eval_stard_dev: MRR@10, R@1/3/5 of bm25, dense and
         hybrid on the calibration part, the held-out part and all (bench/data/real_questions.jsonl)
decline  seed knowledge base: small talk (eval_chitchat_dev) vs our own legal questions
scale    laws + cases + the 6.7k FAQ file (~11k entries): build time, query latency
         p50/p95 after warm-up (embedding included), resident memory of the loaded service

Data dirs are kept under bench/.data so that a second run reuses built indexes; pass
--fresh to time a build from scratch (the vector cache is dropped too).
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / ".data"
OWN_LEGAL = ROOT / "bench" / "data" / "seed_eval.jsonl"
SPLITS = ROOT / "bench" / "data" / "real_questions.jsonl"

from api.settings import Settings  # noqa: E402
from assistant.evaluation import evaluate, read_cases  # noqa: E402
from assistant.service import open_assistant, open_store  # noqa: E402
from index.retriever import Mode  # noqa: E402
from knowledge.importers import import_file  # noqa: E402
from knowledge.seed import load_seed  # noqa: E402
from knowledge.taxonomy import Kind  # noqa: E402

LAWS = ("laws_articles.jsonl", Kind.ARTICLE)
CASES = ("cases_typical.jsonl", Kind.CASE)
FAQS = ("faq_lawyer_llama.jsonl", Kind.FAQ)


def _settings(name: str, fresh: bool) -> Settings:
    data = WORK / name
    if fresh and data.exists():
        shutil.rmtree(data)
        shutil.rmtree(WORK / "cache", ignore_errors=True)
    settings = Settings(data_dir=data)
    # One prepared model and one vector cache serve every bench data dir.
    data.mkdir(parents=True, exist_ok=True)
    for shared in ("models", "cache"):
        (WORK / shared).mkdir(parents=True, exist_ok=True)
        if not (data / shared).exists():
            (data / shared).symlink_to(WORK / shared)
    return settings


def _load(name: str, files: list[tuple[str, Kind]], fresh: bool, seed: bool = False):
    settings = _settings(name, fresh)
    store = open_store(settings.storage)
    if store.count() == 0 or fresh:
        for file, kind in files:
            report = import_file(store, SHARED / file, kind)
            print(f"  imported {file}: {report.imported} rows, {len(report.errors)} errors")
    if not seed and store.count() == 0:
        raise SystemExit("nothing imported")
    started = time.perf_counter()
    assistant = open_assistant(settings, progress=lambda m: print("  " + m), store=store)
    return assistant, time.perf_counter() - started


def part_laws(args) -> None:
    print("== laws only, eval_article_dev")
    assistant, _ = _load("laws", [LAWS], args.fresh)
    cases = read_cases([SHARED / "eval_article_dev.jsonl"])[: args.limit]
    assistant.respond("预热")
    for mode in Mode:
        r = evaluate(assistant, cases, mode)
        print(f"  {mode.value:7s} n={r['n_retrieval']} MRR={r['mrr']:.4f} R@1={r['recall_at_1']:.4f} "
              f"R@5={r['recall_at_5']:.4f} p50={r['latency_ms']['p50']}ms p95={r['latency_ms']['p95']}ms")


def _stard_cases(limit: int) -> list[tuple[str, set[str], str]]:
    split = {r["query_id"]: r["split"] for r in map(json.loads, SPLITS.read_text(encoding="utf-8").splitlines())}
    rows = [json.loads(line) for line in (SHARED / "eval_stard_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    return [(r["query"], set(r["relevant"]), split[r["id"]]) for r in rows[:limit]]


def _article_figures(ranked: list[tuple[list[str], set[str]]]) -> dict[str, float]:
    first = [next((i for i, x in enumerate(ids[:10], 1) if x in relevant), None) for ids, relevant in ranked]
    n = max(len(first), 1)
    return {"n": len(first), "MRR@10": sum(1 / r for r in first if r) / n,
            **{f"R@{k}": sum(1 for r in first if r and r <= k) / n for k in (1, 3, 5)}}


def part_stard(args) -> None:
    print("== all laws + seed FAQs/cases, articles ranked alone, eval_stard_dev")
    settings = _settings("stard", args.fresh)
    store = open_store(settings.storage)
    if store.count() == 0:
        print(f"  imported {LAWS[0]}: {import_file(store, SHARED / LAWS[0], LAWS[1]).imported} rows")
    load_seed(store)  # idempotent; the citing FAQs' and cases' questions expand the articles
    assistant = open_assistant(settings, progress=lambda m: print("  " + m), store=store)
    cases = _stard_cases(args.limit)
    for mode in Mode:
        ranked = [([h.doc.external_id or "" for h in assistant.search(q, mode, k=10, kinds=[Kind.ARTICLE.value]).hits],
                   relevant, split) for q, relevant, split in cases]
        for part in ("calib", "heldout", "all"):
            f = _article_figures([(ids, rel) for ids, rel, s in ranked if part in (s, "all")])
            print(f"  {mode.value:7s} {part:8s} n={f['n']:3d} MRR@10={f['MRR@10']:.3f} R@1={f['R@1']:.3f} "
                  f"R@3={f['R@3']:.3f} R@5={f['R@5']:.3f}")
    print("  (an escalated reply shows up to 3 articles: R@3 is how often a relevant one is among them)")


def part_decline(args) -> None:
    print("== seed knowledge base: decline rates")
    assistant, _ = _load("seed", [], args.fresh, seed=True)
    chat = read_cases([SHARED / "eval_chitchat_dev.jsonl"])
    r = evaluate(assistant, chat)
    declined = r["decisions"].get("decline", {}).get("decline", 0)
    print(f"  small talk declined: {declined}/{len(chat)} = {declined / len(chat):.1%} (target ≥ 95%)")
    if OWN_LEGAL.is_file():
        own = [c for c in read_cases([OWN_LEGAL]) if c.expect != "decline"]
        outcomes = [assistant.respond(c.query) for c in own]
        wrong = sum(o.decision.value == "decline" for o in outcomes)
        print(f"  legal questions declined: {wrong}/{len(own)} = {wrong / max(len(own), 1):.1%} (target ≤ 5%)")
        r = evaluate(assistant, read_cases([OWN_LEGAL]))
        print(f"  seed eval: R@1={r['recall_at_1']} R@5={r['recall_at_5']} MRR={r['mrr']}")
        print("  decisions (expected -> actual): " + json.dumps(r["decisions"], ensure_ascii=False))
    legal = read_cases([SHARED / "eval_article_dev.jsonl"])[: args.limit]
    wrong = sum(assistant.respond(c.query).decision.value == "decline" for c in legal)
    print(f"  eval_article_dev questions declined: {wrong}/{len(legal)} = {wrong / len(legal):.1%}")


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_scale(args) -> None:
    print("== scale: laws + cases + 6.7k FAQ")
    assistant, seconds = _load("scale", [LAWS, CASES, FAQS], args.fresh)
    m = assistant.retriever.index.manifest
    print(f"  index: {m.entry_count} entries, {m.passage_count} passages; open+build {seconds:.1f}s "
          f"(target < 600s when built from scratch: run with --fresh)")
    queries = [c.query for c in read_cases([SHARED / "eval_article_dev.jsonl"])][:300]
    for q in queries[:20]:
        assistant.respond(q)
    latencies = []
    for q in queries:
        latencies.append(assistant.respond(q).latency_ms)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"  query latency over {len(latencies)} queries: p50={p(0.5):.1f}ms p95={p(0.95):.1f}ms "
          f"(target p95 < 60ms)")
    print(f"  resident memory: {_rss_mb():.0f} MB (target < 2048 MB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", default="all", choices=["laws", "stard", "decline", "scale", "all"])
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} not found: the benchmarks need ../shared/data")
    for name in ("laws", "stard", "decline", "scale"):
        if args.part in (name, "all"):
            globals()[f"part_{name}"](args)


if __name__ == "__main__":
    main()
