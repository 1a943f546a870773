"""nDCG@10 of hybrid retrieval for several reciprocal-rank-fusion constants.

    .venv/bin/python scripts/fusion_k.py ../shared/bench/scifact [--max-queries N] [--k 10 30 60]
    .venv/bin/python scripts/fusion_k.py eval/devset.jsonl [--index DIR]     # MRR@10 on a dev set

Uses the cached BEIR index that `rag eval --beir DIR` builds (it builds it if missing).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.beir import _doc_id, build_index, load_beir, ndcg_at_k  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402

search_module = importlib.import_module("rag.search")  # `rag.search` is also the function


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--max-queries", type=int)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 30, 60])
    parser.add_argument("--index", help="with a dev set: the index to search (default: the project's)")
    args = parser.parse_args()
    if args.folder.endswith(".jsonl"):
        return dev_set(args)
    folder = Path(args.folder)
    data = load_beir(folder)
    store = search_module.open_index(build_index(data, PROJECT_ROOT / ".cache" / "beir" / folder.resolve().name))
    query_ids = [q for q in data.queries if q in data.qrels][: args.max_queries]
    default = search_module.RRF_K
    for k in args.k:
        search_module.RRF_K = k
        scores = []
        for query_id in query_ids:
            hits = search_module.rank(store, data.queries[query_id], 30)
            ranked = list(dict.fromkeys(_doc_id(h.source) for h in hits))
            scores.append(ndcg_at_k(ranked, data.qrels[query_id]))
        print(f"{folder.name}: RRF k={k:<3} nDCG@10 {statistics.fmean(scores):.3f}  ({len(query_ids)} queries)")
    search_module.RRF_K = default


def dev_set(args) -> None:
    from rag.evaluation import first_relevant_rank, load_devset

    questions = [q for q in load_devset(args.folder) if q.answerable]
    store = search_module.open_index(args.index)
    default = search_module.RRF_K
    for k in args.k:
        search_module.RRF_K = k
        ranks = [first_relevant_rank(search_module.rank(store, q.question, 10), q) for q in questions]
        mrr = statistics.fmean(1 / r if r else 0.0 for r in ranks)
        print(f"dev set: RRF k={k:<3} MRR@10 {mrr:.3f}  Recall@5 {statistics.fmean(bool(r and r <= 5) for r in ranks):.3f}")
    search_module.RRF_K = default


if __name__ == "__main__":
    main()
