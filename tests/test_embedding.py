"""The encoders: the ``hash`` stand-in, the ONNX query encoder against sentence-transformers,
and the fallback when the ONNX export is missing or broken."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rag import search, sync
from rag.embedding import get_embedder
from rag.hash_embedding import HashEncoder
from rag.onnx_encoder import find_export, mean_pool_normalise, weights_key
from tests.conftest import CORPUS

QUESTION = "who granted Assad asylum?"
SENTENCES = [
    QUESTION,
    "Russian President Vladimir Putin was the one who granted Bashar Assad asylum.",
    "Türkiye's foreign minister met HTS leaders in Damascus.",
    "HOW MANY PEOPLE FLED?",
    " ".join(["The harbour reopened after the storm and the ferries ran again."] * 30),  # past 256 tokens
]


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


def test_hash_index_searches_without_torch_or_onnxruntime(hash_index):
    out = run_python(f"""
        import sys, rag
        hits = rag.search("who granted Assad asylum?", index={str(hash_index)!r})
        answer = rag.answer("who granted Assad asylum?", index={str(hash_index)!r})
        print(len(hits), sorted(m for m in ("torch", "onnxruntime", "sentence_transformers", "bm25s") if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "5 []"


# -- the ONNX encoder against sentence-transformers (the real model) ---------------------


@pytest.fixture(scope="module")
def minilm(corpus_index):
    """The real model through sentence-transformers, and its ONNX export (made by indexing)."""
    from rag.embedding import get_document_embedder, resolve_model_path

    reference = get_document_embedder("all-MiniLM-L6-v2")
    status = find_export(resolve_model_path("all-MiniLM-L6-v2"))
    assert status.usable, status.problem
    return reference, status


@pytest.mark.integration
def test_mean_pooling_equals_sentence_transformers(minilm):
    import torch

    reference, _ = minilm
    model = reference.model
    features = model[0].tokenize(SENTENCES)  # padded batch: the mask matters
    with torch.no_grad():
        features = model[0](features)
        token_embeddings = features["token_embeddings"].numpy()
        expected = model[2](model[1](features))["sentence_embedding"].numpy()
    got = mean_pool_normalise(token_embeddings, features["attention_mask"].numpy())
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.integration
def test_onnx_vectors_equal_sentence_transformers(minilm):
    from rag.onnx_encoder import OnnxEncoder

    reference, status = minilm
    assert "Attention" in json.loads((status.folder / "encoder.json").read_text())["fused"]  # the faster graph is the one checked
    encoder = OnnxEncoder(status.folder, "all-MiniLM-L6-v2")
    expected = reference.encode_documents(SENTENCES)
    got = encoder.encode_documents(SENTENCES)
    assert (got * expected).sum(axis=1).min() >= 0.9999
    for sentence in SENTENCES:
        cosine = float(encoder.encode_query(sentence)[0] @ reference.encode_query(sentence)[0])
        assert cosine >= 0.9999, sentence


@pytest.mark.integration
def test_a_fresh_process_searches_and_answers_without_torch(corpus_index):
    out = run_python(f"""
        import sys, rag
        hit = rag.search("who granted Assad asylum?", index={str(corpus_index)!r})[0]
        result = rag.answer("who granted Assad asylum?", index={str(corpus_index)!r})
        # spaCy neither: the short answer reads its sentence's parse from the index.
        heavy = ("torch", "sentence_transformers", "transformers", "gradio", "ui", "bm25s", "scipy", "spacy", "thinc")
        print(hit.date, result.found, result.short, sorted(m for m in heavy if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2024-12-09 True Vladimir Putin []"
    assert out.stderr == ""  # no fallback warning


@pytest.mark.integration
def test_rag_ask_runs_without_torch(corpus_index):
    out = run_python(f"""
        import sys
        from rag.cli import main
        code = main(["ask", "who granted Assad asylum?", "--index", {str(corpus_index)!r}])
        print("torch" in sys.modules, "sentence_transformers" in sys.modules, code)
    """)
    assert out.returncode == 0, out.stderr
    assert "Putin" in out.stdout
    assert out.stdout.strip().endswith("False False 0")


# -- falling back to sentence-transformers -----------------------------------------------


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """$RAG_CACHE pointed elsewhere, with the encoders this process chose forgotten
    before and after (they are chosen once per process), and the indexes it opened: the
    next search is a first one, whose encoder is loaded in a thread (rag.search.open_for_query)."""
    import importlib

    from rag import embedding
    from rag.embedding import _query_embedder

    cache = tmp_path / "cache"
    monkeypatch.setenv("RAG_CACHE", str(cache))
    monkeypatch.setattr(embedding, "_asked", set())
    monkeypatch.setattr(importlib.import_module("rag.search"), "_open_indexes", {})
    _query_embedder.cache_clear()
    yield cache
    _query_embedder.cache_clear()


def _search_logging(index, caplog) -> tuple[str, list[str]]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rag"):
        date = search(QUESTION, index=index)[0].date
    return date, [r.getMessage() for r in caplog.records if r.name.startswith("rag.")]


@pytest.mark.integration
def test_missing_onnx_export_falls_back_with_one_log_line(corpus_index, private_cache, caplog):
    date, [line] = _search_logging(corpus_index, caplog)
    assert date == "2024-12-09"
    assert "sentence-transformers" in line and "no ONNX export" in line and "rag index" in line
    assert type(get_embedder("all-MiniLM-L6-v2")).__name__ == "SentenceTransformerEncoder"


@pytest.mark.integration
def test_corrupt_onnx_export_falls_back_and_the_next_index_run_repairs_it(
    corpus_index, model_cache, private_cache, caplog, monkeypatch
):
    from rag import onnx_encoder

    shutil.copytree(model_cache, private_cache)
    [model_file] = private_cache.glob("onnx/*/model.onnx")
    size = model_file.stat().st_size
    model_file.write_bytes((b"\0garbage" * size)[:size])  # same size: only loading it tells
    started = []
    load = onnx_encoder.load_session_soon
    monkeypatch.setattr(onnx_encoder, "load_session_soon", lambda folder: (started.append(folder), load(folder)))

    date, [line] = _search_logging(corpus_index, caplog)
    assert started == [model_file.parent]  # it failed in the background thread
    assert date == "2024-12-09"
    assert "does not load" in line and "rag index" in line
    assert (model_file.parent / "BROKEN").exists()

    # An unchanged re-sync embeds nothing, but exports the encoder again.
    assert not sync([CORPUS], corpus_index).changed
    assert not (model_file.parent / "BROKEN").exists()
    assert _search_logging(corpus_index, caplog) == ("2024-12-09", [])
    assert type(get_embedder("all-MiniLM-L6-v2")).__name__ == "OnnxEncoder"


@pytest.mark.integration
def test_an_export_of_the_previous_format_answers_and_the_next_index_run_remakes_it(corpus_index, model_cache, private_cache, caplog):
    shutil.copytree(model_cache, private_cache)
    [meta_file] = private_cache.glob("onnx/*/encoder.json")
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "format": 1}))  # an export made before the graph was fused

    assert _search_logging(corpus_index, caplog) == ("2024-12-09", [])
    assert type(get_embedder("all-MiniLM-L6-v2")).__name__ == "OnnxEncoder"

    assert not sync([CORPUS], corpus_index).changed
    assert json.loads(meta_file.read_text())["format"] == meta["format"] == 2


# -- the cache of exports ----------------------------------------------------------------


@pytest.fixture
def model(tmp_path, monkeypatch):
    """A model folder with only a config, and a private export cache."""
    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def test_weights_key_follows_the_model_files(model, tmp_path):
    (model / "model.safetensors").write_bytes(b"weights")
    first = weights_key(model)
    assert weights_key(model) == first
    assert list((tmp_path / "cache" / "onnx" / "sources").iterdir())  # remembered by size and time
    (model / "model.safetensors").write_bytes(b"other weights")
    assert weights_key(model) != first


def test_a_model_that_cannot_be_reproduced_is_marked_once(model, monkeypatch, caplog):
    from rag import onnx_encoder


    def refuse(loaded, folder):
        raise onnx_encoder._Unsupported("its ONNX vectors differ from sentence-transformers' (cosine 0.5000 < 0.9999)")

    monkeypatch.setattr(onnx_encoder, "_export", refuse)
    with caplog.at_level(logging.WARNING, logger="rag.onnx_encoder"):
        status = onnx_encoder.ensure_export(model, lambda: "a loaded model")
    assert (status.usable, status.final) == (False, True)
    assert "cosine 0.5000" in caplog.text
    monkeypatch.setattr(onnx_encoder, "_export", lambda *a: pytest.fail("exported again"))
    assert onnx_encoder.ensure_export(model, lambda: "a loaded model").final
    assert [p.name for p in status.folder.iterdir()] == ["UNSUPPORTED"]


def test_a_session_built_in_the_background_raises_as_one_built_in_place(tmp_path):
    import tokenizers
    from tokenizers.models import WordLevel

    from rag import onnx_encoder

    folder = tmp_path / "export"
    folder.mkdir()
    tokenizers.Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]")).save(str(folder / "tokenizer.json"))
    (folder / "encoder.json").write_text(json.dumps({"dimension": 384, "inputs": ["input_ids"], "max_seq_length": 8}))
    (folder / "model.onnx").write_bytes(b"\0garbage" * 64)

    def error() -> Exception:
        with pytest.raises(Exception) as caught:
            onnx_encoder.OnnxEncoder(folder, "probe")
        return caught.value

    in_place = error()
    onnx_encoder.load_session_soon(folder)
    in_background = error()
    assert (type(in_background), str(in_background)) == (type(in_place), str(in_place))
    assert folder not in onnx_encoder._loading  # taken, not left for the next encoder


def test_get_embedder_of_the_hash_model_is_the_hash_encoder():
    assert isinstance(get_embedder("hash"), HashEncoder)
    assert get_embedder("hash") is get_embedder("hash")


def test_an_export_that_fails_for_want_of_onnx_says_so_and_is_tried_again(model, tmp_path, monkeypatch, caplog):
    from rag import onnx_encoder


    def no_onnx(loaded, folder):
        try:
            raise ModuleNotFoundError("No module named 'onnx'", name="onnx")
        except ImportError as error:  # torch's exporter wraps it like this
            raise RuntimeError("Module onnx is not installed!") from error

    monkeypatch.setattr(onnx_encoder, "_export", no_onnx)
    with caplog.at_level(logging.WARNING, logger="rag.onnx_encoder"):
        status = onnx_encoder.ensure_export(model, lambda: "a loaded model")
    assert (status.usable, status.final) == (False, False)
    assert "pip install onnx" in caplog.text
    assert not status.folder.exists() and not list((tmp_path / "cache" / "onnx").glob(".tmp-*"))
