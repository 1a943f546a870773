"""A segment's vectors: exact and IVF indexes against brute force on seeded synthetic data
(as faiss's own contrib tests do), masks applied before the cut, memory-mapped reads."""

from __future__ import annotations

import numpy as np
import pytest

from rag import vectors
from rag.settings import VectorSettings

IVF = VectorSettings(ivf_threshold=1_000)


def clustered(n=20_000, d=32, clusters=200, seed=0):
    """Unit vectors around ``clusters`` centres: the shape real embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    x = centres[rng.integers(clusters, size=n)] + 0.35 * rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    queries = centres[rng.integers(clusters, size=100)] + 0.5 * rng.normal(size=(100, d))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return x.astype("float32"), queries.astype("float32")


def brute_force(x, query, k, mask=None):
    scores = x @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.argsort(-scores, kind="stable")[: min(k, len(x) if mask is None else int(mask.sum()))]
    return scores[top], top


@pytest.fixture(scope="module")
def data():
    return clustered()


@pytest.fixture(scope="module")
def ivf(data, tmp_path_factory):
    x, _ = data
    index = vectors.build(x, x.shape[1], IVF)
    path = tmp_path_factory.mktemp("ivf") / "vectors.faiss"
    vectors.write(index, path)
    return vectors.read(path, "ivf")


def test_small_segments_are_exact_and_big_ones_ivf(data):
    x, _ = data
    assert vectors.kind(vectors.build(x[:999], x.shape[1], IVF)) == "flat"
    index = vectors.build(x, x.shape[1], IVF)
    assert vectors.kind(index) == "ivf" and index.nlist == vectors.cells(len(x)) == 512


def test_ivf_reading_every_cell_equals_brute_force(ivf, data):
    x, queries = data
    for query in queries[:20]:
        scores, positions = vectors.search(ivf, query, 10, probes=ivf.nlist)
        expected_scores, expected = brute_force(x, query, 10)
        assert positions.tolist() == expected.tolist()
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


def test_a_mapped_ivf_index_starts_no_prefetch_threads(ivf):
    import faiss

    lists = faiss.downcast_InvertedLists(ivf.invlists)
    assert type(lists).__name__ == "OnDiskInvertedLists" and lists.prefetch_nthread == 0


def test_ivf_recall_at_10_with_the_default_nprobe(ivf, data):
    x, queries = data
    recall = np.mean([
        len(set(vectors.search(ivf, q, 10, probes=IVF.nprobe)[1]) & set(brute_force(x, q, 10)[1])) / 10 for q in queries
    ])
    assert recall >= 0.99


@pytest.mark.parametrize("allowed", [3, 40, 5_000])
def test_a_mask_applies_before_the_cut_even_when_the_cells_read_hold_too_few(ivf, data, allowed):
    x, queries = data
    rng = np.random.default_rng(allowed)
    mask = np.zeros(len(x), dtype=bool)
    mask[rng.choice(len(x), allowed, replace=False)] = True
    for query in queries[:10]:
        scores, positions = vectors.search(ivf, query, 10, mask, probes=4)  # 4 of 512 cells: few allowed there
        assert len(positions) == min(10, allowed) and mask[positions].all()
        if allowed <= 40:  # scored exactly: the true top
            assert positions.tolist() == brute_force(x, query, 10, mask)[1].tolist()


def test_a_flat_index_read_back_mapped_searches_alike(data, tmp_path):
    x, queries = data
    index = vectors.build(x[:500], x.shape[1])
    vectors.write(index, tmp_path / "flat.faiss")
    mapped = vectors.read(tmp_path / "flat.faiss", "flat")
    for query in queries[:5]:
        assert vectors.search(mapped, query, 5)[1].tolist() == brute_force(x[:500], query, 5)[1].tolist()
    np.testing.assert_array_equal(vectors.reconstruct(mapped, np.array([7, 3])), x[[7, 3]])


def test_an_index_of_ivf_segments_filters_and_ranks_like_an_exact_one(tmp_path):
    """End to end: the default corpus with IVF segments (threshold lowered) searched with
    every cell read ranks exactly as the flat index; with filters, k hits still come back."""
    from rag import search, sync
    from rag.settings import StorageSettings
    from rag.store import Index
    from tests.conftest import CORPUS

    exact, approximate = tmp_path / "exact", tmp_path / "ivf"
    sync([CORPUS], exact, model="hash", tagger="rules")
    sync([CORPUS], approximate, model="hash", tagger="rules",
         storage=StorageSettings(vectors=VectorSettings(ivf_threshold=100, nprobe=1_000)))
    store = Index.open(approximate)
    assert [vectors.kind(s.vectors) for s in store.segments] == ["ivf"]
    for question in ("who granted Assad asylum?", "how many Syrians returned from Turkey?"):
        assert search(question, 10, index=approximate) == search(question, 10, index=exact)
    filtered = search("Assad", 10, index=approximate, date_from="2024-12-08", date_to="2024-12-08")
    assert len(filtered) == 10 and {h.date for h in filtered} == {"2024-12-08"}
