"""nDCG@10 of hybrid retrieval for several reciprocal-rank-fusion constants.

    .venv/bin/python scripts/fusion_k.py ../shared/bench/scifact [--max-queries N] [--k 10 30 60]

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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
