"""Recall@10 against exact search, and single-thread latency, of approximate FAISS indexes
on real and stand-in vectors (issue 11: is the IVF default the right one?).

    .venv/bin/python scripts/ann_recall.py scifact            # MiniLM vectors of SciFact's sentences, IVF curve
    .venv/bin/python scripts/ann_recall.py scifact --hash     # the same sentences through the `hash` stand-in
    .venv/bin/python scripts/ann_recall.py segment PATH/vectors.faiss --kind hnsw   # a kept bench_scale segment
    .venv/bin/python scripts/ann_recall.py segment PATH/vectors.faiss --kind pq-refine

SciFact's 5,183 abstracts split into sentences (~44,500) stand for real passages, its 300
claims for questions; vectors are cached in .cache/ann-recall. A bench_scale segment's
vectors are read back from its IVF index; its queries are bench_scale's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
SCIFACT = PROJECT.parent / "shared" / "bench" / "scifact"


def scifact(hash_model: bool) -> tuple[np.ndarray, np.ndarray]:
    texts = []
    for line in open(SCIFACT / "corpus.jsonl", encoding="utf-8"):
        abstract = json.loads(line)["text"]
        texts.extend(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", abstract) if len(s) > 20)
    claims = [json.loads(line)["text"] for line in open(SCIFACT / "queries.jsonl", encoding="utf-8")]
    model = "hash" if hash_model else "all-MiniLM-L6-v2"
    cache = PROJECT / ".cache" / "ann-recall" / f"scifact-{model}.npz"
    if cache.exists():
        saved = np.load(cache)
        return saved["passages"], saved["queries"]
    from rag.embedding import get_embedder

    encoder = get_embedder(model)
    passages = np.vstack([encoder.encode_documents(texts[i : i + 256]) for i in range(0, len(texts), 256)])
    queries = np.vstack([encoder.encode_documents(claims[i : i + 256]) for i in range(0, len(claims), 256)])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, passages=passages, queries=queries)
    return passages, queries


def segment(path: str) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    sys.path.insert(0, str(PROJECT / "scripts"))
    from bench_scale import queries

    from rag.hash_embedding import HashEncoder

    index = faiss.read_index(path)
    index.make_direct_map()
    encoder = HashEncoder()
    return index.reconstruct_n(0, index.ntotal), np.vstack([encoder.encode_query(q) for q in queries(200)])


def curve(index, queries: np.ndarray, truth: np.ndarray, settings: list[tuple[str, int]]) -> None:
    import faiss

    faiss.omp_set_num_threads(1)  # one query at a time, as search() asks
    for name, value in settings:
        target = faiss.extract_index_ivf(index) if name == "nprobe" and not hasattr(index, "nprobe") else index
        if name == "efSearch":
            index.hnsw.efSearch = value
        else:
            setattr(target, name, value)
        found, times = [], []
        for query in queries:
            started = time.perf_counter()
            _, ids = index.search(query[None], 10)
            times.append(time.perf_counter() - started)
            found.append(ids[0])
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
        print(f"{name} {value:5d}  recall@10 {recall:.4f}  p50 {np.median(times) * 1000:.2f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=["scifact", "segment"])
    parser.add_argument("path", nargs="?", help="a segment's vectors.faiss (source segment)")
    parser.add_argument("--hash", action="store_true", help="scifact through the hash stand-in")
    parser.add_argument("--kind", choices=["ivf", "hnsw", "pq-refine"], default="ivf")
    args = parser.parse_args()

    import faiss

    from rag import vectors
    from rag.settings import VECTORS

    passages, queries = scifact(args.hash) if args.source == "scifact" else segment(args.path)
    passages, queries = (np.ascontiguousarray(a, dtype="float32") for a in (passages, queries))
    exact = faiss.IndexFlatIP(passages.shape[1])
    exact.add(passages)
    _, truth = exact.search(queries, 10)
    started = time.perf_counter()
    if args.kind == "ivf":  # exactly as a segment gets it
        index = vectors.build(passages, passages.shape[1], dataclasses.replace(VECTORS, ivf_threshold=1))
        settings = [("nprobe", n) for n in (1, 4, 16, 32, 64, 128, 256, 512) if n <= index.nlist]
    elif args.kind == "hnsw":
        index = faiss.IndexHNSWFlat(passages.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 64
        index.add(passages)
        settings = [("efSearch", n) for n in (64, 128, 256, 512)]
    else:  # 4-bit PQ fast-scan over IVF cells, the best candidates re-ranked with the exact vectors
        index = faiss.index_factory(passages.shape[1], "IVF1024,PQ96x4fs,RFlat", faiss.METRIC_INNER_PRODUCT)
        index.train(passages[:100_000])
        index.add(passages)
        index.k_factor = 50
        settings = [("nprobe", n) for n in (64, 256, 1024)]
    print(f"{args.source}{' (hash)' if args.hash else ''}: {len(passages):,} vectors, {len(queries)} queries, "
          f"{args.kind} built in {time.perf_counter() - started:.1f} s")
    curve(index, queries, truth, settings)


if __name__ == "__main__":
    main()
