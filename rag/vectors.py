"""One segment's vectors in FAISS: exact below a size, an IVF index above it, memory-mapped.

Labels are positions in the segment (0 … n-1); the segment maps them to chunk ids. Plain
functions over numpy arrays, as faiss's contrib code: ``build`` picks the index by size,
``search`` returns ``(scores, positions)`` with a mask applied before the top-k cut.

Exact search reads every vector: ~n·d multiply-adds per query, ~5 ms for 50,000 passages
on this machine's one FAISS thread. Past ``VectorSettings.ivf_threshold`` a segment gets an
``IndexIVFFlat``: k-means cells (inverted lists), of which a query reads ``nprobe``. The
vectors themselves are kept whole (no compression), so scores equal exact ones and only
recall can suffer; ``scripts/bench_scale.py --curve`` measures recall@10 against exact search
for each nprobe, and ``VectorSettings.nprobe`` is set from it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from rag.settings import VECTORS, VectorSettings


@functools.lru_cache(maxsize=1)
def _faiss():
    """faiss, imported on first use and kept to one thread.

    One query against a flat index gains nothing from threads, and faiss's OpenMP
    threads keep spinning after each search, starving torch's threads that encode the
    next query: on 2 cores this alone nearly doubled search() time (10 → 18 ms p50).
    """
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


def one_faiss_thread() -> None:
    """Keep faiss to one thread in the calling thread (OpenMP's setting is per thread,
    and ``_faiss`` sets it only in the thread that first imports it)."""
    _faiss().omp_set_num_threads(1)


@contextlib.contextmanager
def _all_cores():
    """Every core for k-means and adding vectors (index time), one again afterwards for queries."""
    faiss = _faiss()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield faiss
    finally:
        faiss.omp_set_num_threads(1)


def cells(size: int) -> int:
    """How many IVF cells for ``size`` vectors: 4·√n rounded to a power of two (faiss's
    guideline is 4–16·√n), at least 64."""
    return max(64, 1 << round(math.log2(4 * math.sqrt(max(size, 1)))))


def build(vectors: np.ndarray, dimension: int, settings: VectorSettings = VECTORS) -> Any:
    """A FAISS index of ``vectors`` (inner product, labels = row numbers): flat, or IVF past the threshold."""
    vectors = np.ascontiguousarray(vectors, dtype="float32").reshape(-1, dimension)
    if len(vectors) < settings.ivf_threshold:
        index = _faiss().IndexFlatIP(dimension)
        index.add(vectors)
        return index
    with _all_cores() as faiss:
        nlist = cells(len(vectors))
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = settings.seed  # the same cells for the same vectors, every run
        # k-means on a sample: faiss's own rule of thumb (up to 256 points per cell) takes
        # minutes on 2 cores at a million vectors; 64 per cell gives the same recall here
        # (scripts/bench_scale.py --curve) in a quarter of the time.
        sample = min(len(vectors), settings.training_points_per_cell * nlist)
        rows = np.random.default_rng(settings.seed).choice(len(vectors), sample, replace=False)
        index.train(vectors[np.sort(rows)])
        index.add(vectors)
        index.make_direct_map(True)  # reconstruct(position): reuse of vectors and merges need it
        index.nprobe = nprobe(nlist, settings)
        return index


def nprobe(nlist: int, settings: VectorSettings = VECTORS) -> int:
    return min(nlist, settings.nprobe)


def kind(index: Any) -> str:
    return "ivf" if hasattr(index, "nprobe") else "flat"


def write(index: Any, path: Path) -> None:
    _faiss().write_index(index, str(path))


def read(path: Path, kind: str) -> Any:
    """The index at ``path`` (of ``kind`` "flat" or "ivf"), memory-mapped: opening reads no
    vector, the OS pages them in as queries touch them (a flat index at its first search, an
    IVF index cell by cell)."""
    faiss = _faiss()
    # IO_FLAG_MMAP maps IVF lists, IO_FLAG_MMAP_IFC flat codes (faiss ≥ 1.10); together they
    # fail on IVF ("mmap only supported for File objects"). Reading a 300 MB flat index:
    # 0.43 s copied, 0.000 s mapped; an IVF one: 0.36 s and 0.002 s (faiss 1.15.1).
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP if kind == "ivf" else faiss.IO_FLAG_MMAP_IFC)
    if kind == "ivf":
        # Mapped IVF lists are OnDiskInvertedLists, which start 32 threads per search to touch
        # the probed lists' pages ahead of the scan: meant for cold disks, pure overhead once the
        # pages are cached (the OS pages them in on first touch either way). A 250,000-passage
        # segment, nprobe 64, one thread: 4.95-5.72 ms p50 with them, 1.90-2.23 ms without.
        lists = faiss.downcast_InvertedLists(index.invlists)
        if hasattr(lists, "prefetch_nthread"):
            lists.prefetch_nthread = 0
    return index


def reconstruct(index: Any, positions: np.ndarray) -> np.ndarray:
    """The stored vectors at ``positions`` (exact: nothing is compressed)."""
    positions = np.ascontiguousarray(positions, dtype="int64")
    if len(positions) == 0:
        return np.zeros((0, index.d), dtype="float32")
    return index.reconstruct_batch(positions)


def search(
    index: Any, query: np.ndarray, k: int, mask: np.ndarray | None = None, probes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` ``(scores, positions)`` by inner product, among ``mask``'s positions when given.

    The mask is applied inside FAISS, before the cut. An IVF index reads only ``nprobe``
    cells, so when few positions pass the mask (or the cells it reads hold fewer than k of
    them) the allowed vectors are scored exactly instead: a filtered search always returns
    min(k, allowed) hits.
    """
    faiss = _faiss()
    query = np.ascontiguousarray(query, dtype="float32").reshape(1, -1)
    total = index.ntotal if mask is None else int(np.count_nonzero(mask))
    k = min(k, total)
    if k <= 0:
        return np.zeros(0, "float32"), np.zeros(0, "int64")
    ivf = kind(index) == "ivf"
    if ivf and mask is not None and total <= max(4 * k, index.ntotal // index.nlist * (probes or index.nprobe)):
        return _exact(index, query, k, np.flatnonzero(mask))  # fewer vectors than the cells would read
    bits = None if mask is None else np.packbits(mask, bitorder="little")
    selector = None if bits is None else faiss.IDSelectorBitmap(bits)
    if ivf:
        params = faiss.SearchParametersIVF(sel=selector, nprobe=probes or index.nprobe)
    else:
        params = None if selector is None else faiss.SearchParameters(sel=selector)
    scores, positions = index.search(query, k, params=params)
    keep = positions[0] >= 0
    if ivf and keep.sum() < k:  # the probed cells held too few allowed vectors
        return _exact(index, query, k, np.arange(index.ntotal) if mask is None else np.flatnonzero(mask))
    return scores[0][keep], positions[0][keep]


def _exact(index: Any, query: np.ndarray, k: int, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k among ``positions``, from their stored vectors (read in blocks)."""
    best_scores, best_positions = np.zeros(0, "float32"), np.zeros(0, "int64")
    for first in range(0, len(positions), 65_536):
        part = positions[first : first + 65_536]
        scores = reconstruct(index, part) @ query[0]
        scores = np.concatenate([best_scores, scores])
        candidates = np.concatenate([best_positions, part])
        top = np.argsort(-scores, kind="stable")[:k]
        best_scores, best_positions = scores[top], candidates[top]
    return best_scores.astype("float32"), best_positions.astype("int64")


def all_vectors(index: Any) -> np.ndarray:
    """Every stored vector, by position (for merges)."""
    return reconstruct(index, np.arange(index.ntotal))
