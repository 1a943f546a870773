"""Retrieval quality on any BEIR-format folder, through the project's own pipeline.

A BEIR folder holds ``corpus.jsonl`` ({"_id", "title", "text"}), ``queries.jsonl``
({"_id", "text"}) and ``qrels/test.tsv`` (query-id, corpus-id, score; header line).
Each document is written as a text file and indexed with ``sync`` (chunking,
embedding, FAISS), so the figures measure exactly what users get. The index is
cached next to the data's name, so a second run embeds nothing.
"""

from __future__ import annotations

import json
import math
import statistics
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from rag.config import PROJECT_ROOT
from rag.errors import IndexFormatError

MODES = ("dense", "keyword", "hybrid")
_CUTOFF = 100


@dataclass(frozen=True)
class BeirData:
    corpus: dict[str, str]  # id → title and text
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    answers: dict[str, list[str]]  # optional: gold answer strings per query


@dataclass(frozen=True)
class ModeReport:
    mode: str
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    answer_in_top_1: float | None  # share of queries whose top passage holds a gold answer
    answer_in_top_5: float | None
    latency_p50_ms: float


@dataclass(frozen=True)
class BeirReport:
    name: str
    documents: int
    queries: int
    passages: int
    modes: tuple[ModeReport, ...]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_beir(folder: str | Path) -> BeirData:
    folder = Path(folder)
    for required in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        if not (folder / required).exists():
            raise ValueError(f"{folder} is not a BEIR folder: {required} is missing")
    corpus = {
        str(d["_id"]): "\n\n".join(part for part in (d.get("title", ""), d.get("text", "")) if part)
        for d in _read_jsonl(folder / "corpus.jsonl")
    }
    queries = {str(q["_id"]): q["text"] for q in _read_jsonl(folder / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate((folder / "qrels" / "test.tsv").read_text().splitlines()):
        parts = line.split("\t")
        if number == 0 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # the header line
        if len(parts) >= 3 and int(parts[2]) > 0:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    answers = {}
    if (folder / "answers.jsonl").exists():
        answers = {str(a["_id"]): a["answers"] for a in _read_jsonl(folder / "answers.jsonl")}
    return BeirData(corpus, queries, qrels, answers)


def ndcg_at_k(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain, with graded relevance as BEIR computes it."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(grade / math.log2(i + 2) for i, grade in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: list[str], relevant: dict[str, int], k: int = _CUTOFF) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr_at_k(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    return next((1 / (i + 1) for i, doc in enumerate(ranked[:k]) if doc in relevant), 0.0)


def _file_name(doc_id: str) -> str:
    return urllib.parse.quote(doc_id, safe="") + ".txt"


def _doc_id(source: str) -> str:
    return urllib.parse.unquote(source[: -len(".txt")])


def build_index(data: BeirData, workdir: Path, progress=None) -> Path:
    """Write the corpus as files and index it with the project's own ``sync``."""
    from rag.indexing import sync

    documents = workdir / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    wanted = {_file_name(doc_id): text for doc_id, text in data.corpus.items()}
    for stale in set(p.name for p in documents.iterdir()) - set(wanted):
        (documents / stale).unlink()
    for name, text in wanted.items():
        path = documents / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    index = workdir / "index"
    try:
        sync([documents], index, progress=progress)
    except IndexFormatError:  # a cache built by another version: build it again
        sync([documents], index, progress=progress, rebuild=True)
    return index


def evaluate_beir(folder: str | Path, *, max_queries: int | None = None, workdir: Path | None = None) -> BeirReport:
    """nDCG@10, Recall@100 and MRR@10 for dense, keyword and hybrid retrieval."""
    from rag.search import open_index, rank

    folder = Path(folder)
    data = load_beir(folder)
    workdir = workdir or PROJECT_ROOT / ".cache" / "beir" / folder.resolve().name
    store = open_index(build_index(data, workdir))
    query_ids = [q for q in data.queries if q in data.qrels][:max_queries]
    modes = []
    for mode in MODES:
        ndcg, recall, mrr, top1, top5, latencies = [], [], [], [], [], []
        for query_id in query_ids:
            started = time.perf_counter()
            hits = rank(store, data.queries[query_id], 3 * _CUTOFF, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)
            ranked = list(dict.fromkeys(_doc_id(h.source) for h in hits))  # best passage per document
            relevant = data.qrels[query_id]
            ndcg.append(ndcg_at_k(ranked, relevant))
            recall.append(recall_at_k(ranked, relevant))
            mrr.append(mrr_at_k(ranked, relevant))
            if query_id in data.answers:
                gold = [a.lower() for a in data.answers[query_id]]
                holds = [any(a in h.text.lower() for a in gold) for h in hits[:5]]
                top1.append(holds[:1] == [True])
                top5.append(any(holds))
        modes.append(
            ModeReport(
                mode=mode,
                ndcg_at_10=statistics.fmean(ndcg),
                recall_at_100=statistics.fmean(recall),
                mrr_at_10=statistics.fmean(mrr),
                answer_in_top_1=statistics.fmean(top1) if top1 else None,
                answer_in_top_5=statistics.fmean(top5) if top5 else None,
                latency_p50_ms=statistics.median(latencies),
            )
        )
    return BeirReport(folder.name, len(data.corpus), len(query_ids), len(store.chunks), tuple(modes))


def format_beir(report: BeirReport) -> str:
    lines = [
        f"{report.name}: {report.documents} documents ({report.passages} passages), {report.queries} queries",
        f"{'mode':8} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7} {'ans@1':>6} {'ans@5':>6} {'p50 ms':>7}",
    ]
    for m in report.modes:
        answers = (
            f"{m.answer_in_top_1:6.3f} {m.answer_in_top_5:6.3f}" if m.answer_in_top_1 is not None else f"{'-':>6} {'-':>6}"
        )
        lines.append(
            f"{m.mode:8} {m.ndcg_at_10:8.3f} {m.recall_at_100:7.3f} {m.mrr_at_10:7.3f} {answers} {m.latency_p50_ms:7.1f}"
        )
    return "\n".join(lines)
