"""search(): dense (FAISS) and keyword (BM25) retrieval fused by reciprocal rank."""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Literal

import numpy as np

from rag.config import DEFAULT_CORPUS, default_index_path
from rag.dates import parse_date
from rag.errors import RagError
from rag.settings import RETRIEVAL
from rag.types import Hit

log = logging.getLogger(__name__)

RRF_K = RETRIEVAL.rrf_k
DENSE_WEIGHT = RETRIEVAL.dense_weight
KEYWORD_WEIGHT = RETRIEVAL.keyword_weight
_DEPTH = RETRIEVAL.depth
_NEAR_DUPLICATE_OVERLAP = RETRIEVAL.near_duplicate_overlap

_open_lock = threading.Lock()
_open_indexes: dict[Path, object] = {}  # one live snapshot per index folder


def open_index(index: "str | Path | None" = None):
    """The live Index at ``index`` (default: the project's), loaded once per version.

    With no argument, the default index is built from the default corpus on first use.
    """
    from rag.store import Index, live_version

    if isinstance(index, Index):
        return index
    if index is not None and not isinstance(index, (str, os.PathLike)):
        raise ValueError(f"index must be a folder (a str or a Path), not {type(index).__name__}")
    path = Path(index) if index is not None else default_index_path()
    with _open_lock:
        if index is None and live_version(path) is None:
            from rag.indexing import sync

            log.info("building the default index at %s from %s", path, DEFAULT_CORPUS)
            sync([DEFAULT_CORPUS], path)
        cached = _open_indexes.get(path.resolve())
        if cached is not None and cached.version == live_version(path):
            return cached
        opened = Index.open(path)
        _open_indexes[path.resolve()] = opened
        return opened


def open_for_query(index: "str | Path | None" = None):
    """``open_index(index)`` for a query, whose encoder is needed next.

    A fresh process's first search spends ~0.2 s opening the index (importing faiss)
    and ~0.3 s building the ONNX query encoder's session, which holds no GIL. Started
    first, in a thread (rag.embedding.start_query_encoder), the session is built on the
    other core meanwhile: `import rag; rag.search(...)` in a fresh process took 0.70 s
    instead of 0.81 s (medians of 15, 2 cores, quiet), 1.03 instead of 1.09 s with both
    cores busy elsewhere.
    """
    if isinstance(index, (str, os.PathLike)) or index is None:
        from rag.embedding import start_query_encoder
        from rag.store import read_manifest

        path = Path(index) if index is not None else default_index_path()
        try:
            manifest = None if path.resolve() in _open_indexes else read_manifest(path)
        except (RagError, OSError, ValueError):
            manifest = None  # open_index says what is wrong
        if manifest is not None:
            start_query_encoder(manifest.model)
    return open_index(index)


def _normalised(store, chunk) -> str:
    """The chunk's text without case, punctuation or spacing: equal means duplicate."""
    keys = store.cache.setdefault("normalised", {})
    if chunk.chunk_id not in keys:
        keys[chunk.chunk_id] = re.sub(r"\W+", " ", chunk.text.lower()).strip()
    return keys[chunk.chunk_id]


class _Shown:
    """The hits kept so far, indexed so that a near-duplicate check is cheap."""

    def __init__(self, store) -> None:
        self.store = store
        self.texts: set[str] = set()
        self.spans: dict[tuple[str, int | None], list[tuple[int, int]]] = {}

    def add_unless_duplicate(self, chunk) -> bool:
        """Keep ``chunk`` unless its text was shown, or most of its span of the same page."""
        key = _normalised(self.store, chunk)
        if key in self.texts:
            return False
        spans = self.spans.setdefault((chunk.source, chunk.page), [])
        for start, end in spans:
            overlap = min(end, chunk.end) - max(start, chunk.start)
            if overlap > _NEAR_DUPLICATE_OVERLAP * min(end - start, chunk.end - chunk.start):
                return False
        self.texts.add(key)
        spans.append((chunk.start, chunk.end))
        return True


_NOT_TEXT = re.compile("[\ud800-\udfff]")  # lone surrogates: undecodable bytes, as Python keeps them


def validate_query(query: str, k: int) -> str:
    """The query, stripped; ValueError saying what to change when it or ``k`` is unusable."""
    if isinstance(query, (bytes, bytearray)):
        raise ValueError("the query is bytes, not text; decode it first, e.g. query.decode('utf-8')")
    if not isinstance(query, str):
        raise ValueError(
            f"the query must be a string, not {type(query).__name__}; e.g. search('when did the harbour reopen?')"
        )
    if not query.strip():
        raise ValueError("the query is empty; ask a question, e.g. search('when did the harbour reopen?')")
    bad = _NOT_TEXT.search(query)
    if bad:
        raise ValueError(
            f"the query holds bytes that are not valid text (character {bad.start() + 1}); type it again, "
            "and check that the terminal or file it came from uses UTF-8"
        )
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise ValueError(f"k={k!r} must be a positive whole number of hits, e.g. k=5")
    return query.strip()


def search(
    query: str,
    k: int = 5,
    *,
    index=None,
    date_from=None,
    date_to=None,
    source: str | None = None,
) -> list[Hit]:
    """The k passages that best match ``query``, best first.

    Args:
        index: an index folder or an opened Index; default: the project's index,
            built from the default corpus on first use.
        date_from, date_to: ISO dates (inclusive); undated passages are left out
            when either is given.
        source: a source path, or a glob such as ``"reports/*.pdf"``.

    >>> for hit in search("who granted Assad asylum?", k=3):   # doctest: +SKIP
    ...     print(hit.rank, hit.date, hit.source, hit.text[:60])
    """
    query = validate_query(query, k)
    if source is not None and not isinstance(source, str):
        raise ValueError(f"source must be a file name or a glob, e.g. source='*.pdf', not {type(source).__name__}")
    date_from = parse_date(date_from, name="date_from")
    date_to = parse_date(date_to, name="date_to")
    return retrieve(open_for_query(index), query, k, date_from=date_from, date_to=date_to, source=source)


def retrieve(
    store,
    query: str,
    k: int,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    source: str | None = None,
    allowed: np.ndarray | None = None,
) -> list[Hit]:
    """``search()`` on an opened Index, with checked arguments (ISO dates).

    ``allowed`` (positions in ``store.chunks``, i.e. ranks of chunk ids) narrows the
    search further; evaluations use it to hide the passage that answers a question. An
    empty ``query`` asks for the most central passages (``central``).
    """
    if date_from and date_to and date_from > date_to:
        raise ValueError(f"date_from={date_from} is after date_to={date_to}; swap them")
    chunk_ids = None if allowed is None else store.ids[np.asarray(allowed, dtype="int64")]
    masks = store.masks(date_from, date_to, source, chunk_ids)
    if not query:
        return central(store, k, masks)
    return _rank(store, query, k, masks)


def rank(
    store,
    query: str,
    k: int,
    allowed: np.ndarray | None = None,
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid",
) -> list[Hit]:
    """Fuse dense and keyword rankings of ``store``'s chunks (restricted to ``allowed`` positions).

    ``mode`` keeps one list only; the evaluation uses it to measure what each adds.
    """
    masks = store.live if allowed is None else store.masks(chunk_ids=store.ids[np.asarray(allowed, dtype="int64")])
    return _rank(store, query, k, masks, mode)


def _rank(store, query: str, k: int, masks: list, mode: str = "hybrid") -> list[Hit]:
    """Fusion over every segment, each searched among its ``masks`` positions (None: all)."""
    if store.count == 0 or all(m is not None and not m.any() for m in masks):
        return []
    depth = max(_DEPTH, 2 * k)
    parallel = mode == "hybrid" and store.count >= RETRIEVAL.parallel_from
    pending = _dense_pool().submit(_dense_ranked, store, query, depth, masks) if parallel else None
    try:
        keyword = _keyword_ranked(store, query, depth, masks) if mode in ("hybrid", "keyword") else None
    except BaseException:
        if pending is not None:
            pending.cancel()  # not started yet: never run; running: its result is dropped
        raise
    if pending is not None:
        dense = pending.result()
    else:
        dense = _dense_ranked(store, query, depth, masks) if mode in ("hybrid", "dense") else None
    fused: dict[int, float] = {}
    places: dict[int, tuple[int, int, int]] = {}  # where each passage lies: equal scores go in corpus order
    for found, weight in ((dense, DENSE_WEIGHT), (keyword, KEYWORD_WEIGHT)):
        if found is None:
            continue
        for position, (chunk_id, place) in enumerate(zip(found.ids.tolist(), found.keys())):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + position + 1)
            places[chunk_id] = place

    return _hits(store, sorted(fused.items(), key=lambda item: (-item[1], places[item[0]])), k)


def central(store, k: int, masks: list | None = None) -> list[Hit]:
    """The k passages (of each segment's ``masks`` positions; None: every live one) nearest
    the centroid of their embeddings, best first.

    What a set of passages is mostly about is what most of them are near (centroid
    summarisation): an overview of a day with no topic given starts from it. It reads the
    vectors of every passage it is given: meant for a filtered few (a day's), not a corpus.
    """
    ids, vectors = [], []
    for segment, mask in zip(store.segments, store.live if masks is None else masks):
        positions = np.arange(segment.size) if mask is None else np.flatnonzero(mask)
        if len(positions):
            ids.append(np.asarray(segment.ids)[positions])
            vectors.append(segment.vectors_at(positions))
    if not ids:
        return []
    ids, vectors = np.concatenate(ids), np.concatenate(vectors)
    by_id = np.argsort(ids, kind="stable")  # chunk id order, so equal scores rank as before segments
    ids, vectors = ids[by_id], vectors[by_id]
    centroid = vectors.mean(axis=0)
    scores = vectors @ (centroid / max(float(np.linalg.norm(centroid)), 1e-12))
    order = np.argsort(-scores, kind="stable")
    return _hits(store, [(int(ids[i]), float(scores[i])) for i in order], k)


def _hits(store, scored: "list[tuple[int, float]]", k: int) -> list[Hit]:
    """Hits for (chunk id, score) pairs, best first, near-duplicates left out, k at most."""
    hits: list[Hit] = []
    shown = _Shown(store)
    for chunk_id, score in scored:
        chunk = store.chunk(chunk_id)
        if not shown.add_unless_duplicate(chunk):
            continue
        hits.append(
            Hit(
                rank=len(hits) + 1,
                score=round(float(score), 6),
                chunk_id=chunk.chunk_id,
                source=chunk.source,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                page=chunk.page,
                date=chunk.date,
            )
        )
        if len(hits) == k:
            break
    return hits


_dense_threads = None
_dense_threads_lock = threading.Lock()


def _dense_pool():
    """Threads for the dense half of large searches, made on first use (several searches,
    from the app's sessions, may run at once)."""
    global _dense_threads
    with _dense_threads_lock:
        if _dense_threads is None:
            from concurrent.futures import ThreadPoolExecutor

            from rag.vectors import one_faiss_thread

            # faiss's thread count is per thread: each worker keeps to one, as queries do.
            _dense_threads = ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="rag-dense", initializer=one_faiss_thread
            )
        return _dense_threads


def _dense_ranked(store, query: str, depth: int, masks: list):
    from rag.embedding import get_embedder

    query_vector = get_embedder(store.model).encode_query(query)
    return store.dense_ranked(query_vector, depth, masks)


def _keyword_ranked(store, query: str, depth: int, masks: list):
    """The ``depth`` best BM25 passages over every segment, best first (``Index.corpus_order``)."""
    found = []
    for segment_scores, mask in zip(store.keyword.scores(query), masks):
        candidates = np.flatnonzero(segment_scores > 0 if mask is None else (segment_scores > 0) & mask)
        if len(candidates) > depth:
            # Every passage scoring at least the depth-th best: ties at the cut are all kept,
            # so the order (score, then place in the corpus) is the same however it is split.
            values = segment_scores[candidates]
            kth = np.partition(values, len(values) - depth)[len(values) - depth]
            candidates = candidates[values >= kth]
        found.append((segment_scores[candidates], candidates))
    return store.corpus_order(found)[:depth]
