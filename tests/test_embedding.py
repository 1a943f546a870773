"""The encoders: the ``hash`` stand-in model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rag import search, sync
from rag.embedding import get_embedder
from rag.hash_embedding import HashEncoder

def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=300,
    )


# -- the hash model ----------------------------------------------------------------------


def test_hash_vectors_are_unit_length_and_share_words():
    encoder = HashEncoder()
    vectors = encoder.encode_documents(["the harbour reopened", "harbour reopened today", "snow closed the pass"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    query = encoder.encode_query("harbour reopened")[0]
    assert vectors[0] @ query > vectors[2] @ query
    assert vectors[1] @ query > 0.5


def test_hash_counts_word_pairs_not_only_words():
    encoder = HashEncoder()
    a, b = encoder.encode_documents(["dog bites man", "man bites dog"])
    assert 0.2 < float(a @ b) < 0.99  # same words, different bigrams


def test_hash_of_a_text_without_words_is_the_zero_vector():
    assert not HashEncoder().encode_documents(["", "— … !"]).any()


def test_hash_vectors_are_the_same_in_another_process():
    out = run_python("""
        from rag.hash_embedding import HashEncoder
        print(HashEncoder().encode_documents(["Putin granted Assad asylum in Moscow"])[0].tolist())
    """, PYTHONHASHSEED="12345")
    assert out.returncode == 0, out.stderr
    other = np.array(json.loads(out.stdout), dtype="float32")
    np.testing.assert_array_equal(other, HashEncoder().encode_documents(["Putin granted Assad asylum in Moscow"])[0])


def test_hash_is_accepted_as_model_name_by_sync_and_env(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The harbour reopened to cargo ships on Monday morning.")
    monkeypatch.setenv("RAG_MODEL", "hash")
    sync([docs], tmp_path / "index")
    info = json.loads(next((tmp_path / "index").glob("v*/manifest.json")).read_text())
    assert (info["model"], info["dimension"]) == ("hash", 384)
    assert search("harbour cargo", index=tmp_path / "index")[0].source == "a.txt"


def test_hash_index_searches_without_torch(hash_index):
    out = run_python(f"""
        import sys, rag
        hits = rag.search("who granted Assad asylum?", index={str(hash_index)!r})
        answer = rag.answer("who granted Assad asylum?", index={str(hash_index)!r})
        print(len(hits), sorted(m for m in ("torch", "sentence_transformers") if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "5 []"


def test_get_embedder_of_the_hash_model_is_the_hash_encoder():
    assert isinstance(get_embedder("hash"), HashEncoder)
    assert get_embedder("hash") is get_embedder("hash")
