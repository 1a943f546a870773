"""Vectors of each passage's sentences, stored with the index: written, merged and read
back, taken by answers instead of encoding, and ignored where they cannot be trusted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag import sync
from rag.answering.candidates import candidates, sentence_vectors
from rag.answering.question import analyze
from rag.embedding import encode_sentences, get_embedder
from rag.hash_embedding import HashEncoder
from rag.search import retrieve
from rag.segments import Segment, write_segment
from rag.sentences import SPLITTER_VERSION, sentence_spans
from rag.settings import SegmentSettings, StorageSettings, VectorSettings
from rag.store import Index, verify
from rag.types import Chunk
from tests.conftest import CORPUS
from tests.test_segments import split_corpus

NEVER = StorageSettings(vectors=VectorSettings(sentences_up_to=0))
TEXTS = ["Putin met Erdogan in Moscow. They spoke for an hour.", "Snow closed the pass.", "One. Two. Three!"]


def test_encode_sentences_gives_each_text_the_vectors_of_its_sentences_in_order():
    found = encode_sentences(HashEncoder(), TEXTS)
    assert [len(f) for f in found] == [len(sentence_spans(t)) for t in TEXTS] == [2, 1, 3]
    assert all(f.dtype == np.float16 for f in found)
    expected = HashEncoder().encode_documents(["They spoke for an hour."])[0]
    np.testing.assert_allclose(found[0][1], expected, atol=1e-3)


def test_a_segment_gives_back_each_passages_sentence_vectors_and_none_where_none_were_stored(tmp_path):
    chunks = [Chunk(i, "a.txt", text, 0, len(text)) for i, text in enumerate(TEXTS)]
    encoded = encode_sentences(HashEncoder(), TEXTS)
    stored = [encoded[0], None, encoded[2]]
    info = write_segment(tmp_path, chunks, HashEncoder().encode_documents(TEXTS), [(), (), ()], 384, sentences=stored)
    segment = Segment(tmp_path / info.name, 384)
    assert segment.has_sentences
    np.testing.assert_array_equal(segment.sentence_vectors_at(0), encoded[0])
    assert segment.sentence_vectors_at(1) is None
    np.testing.assert_array_equal(segment.sentence_vectors_at(2), encoded[2])

    plain = write_segment(tmp_path, chunks, HashEncoder().encode_documents(TEXTS), [(), (), ()], 384)
    assert not Segment(tmp_path / plain.name, 384).has_sentences
    assert not (tmp_path / plain.name / "sentences.npy").exists()


def test_sentence_vectors_of_another_splitting_are_not_read(tmp_path):
    chunks = [Chunk(i, "a.txt", text, 0, len(text)) for i, text in enumerate(TEXTS)]
    info = write_segment(tmp_path, chunks, HashEncoder().encode_documents(TEXTS), [(), (), ()], 384,
                         sentences=encode_sentences(HashEncoder(), TEXTS))
    meta_file = tmp_path / info.name / "segment.json"
    meta = json.loads(meta_file.read_text())
    meta["sentences"]["splitter"] = SPLITTER_VERSION + 1
    meta_file.write_text(json.dumps(meta))
    segment = Segment(tmp_path / info.name, 384)
    assert not segment.has_sentences and segment.sentence_vectors_at(0) is None


def test_a_cut_short_sentence_file_is_refused_with_what_is_wrong(tmp_path):
    chunks = [Chunk(i, "a.txt", text, 0, len(text)) for i, text in enumerate(TEXTS)]
    info = write_segment(tmp_path, chunks, HashEncoder().encode_documents(TEXTS), [(), (), ()], 384,
                         sentences=encode_sentences(HashEncoder(), TEXTS))
    path = tmp_path / info.name / "sentences.npy"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="sentence vectors"):
        Segment(tmp_path / info.name, 384)


def test_a_sync_stores_sentence_vectors_up_to_the_size_its_settings_allow(tmp_path):
    stored, never = tmp_path / "stored", tmp_path / "never"
    sync([CORPUS], stored, model="hash", tagger="rules")
    sync([CORPUS], never, model="hash", tagger="rules", storage=NEVER)
    with_vectors, without = Index.open(stored), Index.open(never)
    assert verify(stored) == [] and verify(never) == []
    for chunk in with_vectors.chunks[:20]:
        found = with_vectors.sentence_vectors(chunk.chunk_id)
        np.testing.assert_array_equal(found, encode_sentences(HashEncoder(), [chunk.text])[0])
    assert all(without.sentence_vectors(c.chunk_id) is None for c in without.chunks)
    assert (with_vectors.info().sentence_vectors, without.info().sentence_vectors) == (len(with_vectors.chunks), 0)
    small = StorageSettings(vectors=VectorSettings(sentences_up_to=len(with_vectors.chunks) - 1))
    sync([CORPUS], tmp_path / "small", model="hash", tagger="rules", storage=small)
    assert all(Index.open(tmp_path / "small").sentence_vectors(c.chunk_id) is None for c in without.chunks)


def test_merges_and_resyncs_keep_every_passages_sentence_vectors(tmp_path):
    docs = split_corpus(tmp_path / "docs")
    tiny = StorageSettings(segments=SegmentSettings(max_passages=60, merge_factor=3, floor=4, expunge_share=0.5))
    path = tmp_path / "index"
    names = sorted(p.name for p in docs.iterdir())
    for number in range(1, len(names) + 1):
        sync([docs / name for name in names[:number]], path, model="hash", tagger="rules", storage=tiny)
    first = docs / names[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nA new closing paragraph. It has two sentences.",
                     encoding="utf-8")
    sync([docs], path)  # the unchanged passages of the file are copied, not embedded again
    index = Index.open(path)
    assert len(index.manifest.segments) < len(names)
    assert index.info().sentence_vectors == index.info().chunks  # replaced passages are not counted
    for chunk in index.chunks:
        np.testing.assert_array_equal(
            index.sentence_vectors(chunk.chunk_id), encode_sentences(HashEncoder(), [chunk.text])[0]
        )


@pytest.fixture()
def fresh_cache():
    sentence_vectors.cache_clear()
    yield
    sentence_vectors.cache_clear()


def _encoded_while_scoring(path, monkeypatch) -> tuple[list[str], list]:
    store = Index.open(path)
    embedder = get_embedder(store.manifest.model)
    encoded: list[str] = []
    real = embedder.encode_documents
    monkeypatch.setattr(embedder, "encode_documents", lambda texts, *a, **k: encoded.extend(texts) or real(texts))
    question = "who granted Assad asylum?"
    analysis = analyze(question, store.gazetteer, store.known_dates)
    hits = retrieve(store, question, 5)
    found = candidates(analysis, hits, store, embedder.encode_query(question)[0])
    return encoded, found


def test_answers_read_the_stored_sentence_vectors_instead_of_encoding(tmp_path, monkeypatch, fresh_cache):
    sync([CORPUS], tmp_path / "stored", model="hash", tagger="rules")
    sync([CORPUS], tmp_path / "never", model="hash", tagger="rules", storage=NEVER)
    encoded, with_stored = _encoded_while_scoring(tmp_path / "stored", monkeypatch)
    assert encoded == [] and with_stored
    sentence_vectors.cache_clear()
    encoded, computed = _encoded_while_scoring(tmp_path / "never", monkeypatch)
    assert len(encoded) == len(computed)
    assert [c.text for c in with_stored] == [c.text for c in computed]
    # Half precision moves a similarity by far less than anything that decides an answer.
    np.testing.assert_allclose([c.features for c in with_stored], [c.features for c in computed], atol=2e-3)


def test_a_text_of_one_sentence_reuses_its_own_vector_and_the_others_are_encoded():
    class Counting(HashEncoder):
        asked: list[str] = []

        def encode_documents(self, texts, batch_size=0):
            self.asked.extend(texts)
            return super().encode_documents(texts)

    encoder = Counting()
    whole = encoder.encode_documents(TEXTS)
    encoder.asked.clear()
    found = encode_sentences(encoder, TEXTS, whole)
    assert "Snow closed the pass." not in encoder.asked and len(encoder.asked) == 5
    for mine, plain in zip(found, encode_sentences(HashEncoder(), TEXTS)):
        np.testing.assert_array_equal(mine, plain)
