"""Keyword retrieval: the tokenizer against bm25s's, BM25 over saved postings against bm25s's
scoring, and corpus-wide statistics over segments with deleted passages."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from rag.lexical import _STOPWORDS, STOPWORDS_EN, STOPWORDS_EN_PLUS, Bm25, Postings, _stemmer, keyword_index, tokenize
from rag.store import Index
from tests.conftest import DEVSET

QUERIES = [
    "who granted Assad asylum?",
    "How many Syrians returned from Türkiye?",
    "Turkiye Turkey turkey",  # folding, and a repeated token counts twice
    "the and of",  # stopwords only
    "zzzz unknownword",
]


@pytest.fixture(scope="module")
def passages(hash_index) -> list[str]:
    return [chunk.text for chunk in Index.open(hash_index).chunks]


def test_stopwords_are_bm25s_english_list():
    from bm25s.stopwords import STOPWORDS_EN as bm25s_list

    assert sorted(STOPWORDS_EN) == sorted(bm25s_list)
    from bm25s.stopwords import STOPWORDS_EN_PLUS as bm25s_full_list

    assert sorted(STOPWORDS_EN_PLUS) == sorted(bm25s_full_list)


def test_tokenize_equals_bm25s_tokenize(passages):
    import bm25s

    from rag.lexical import fold

    texts = passages + QUERIES
    expected = bm25s.tokenize(
        [fold(t) for t in texts], stopwords=sorted(_STOPWORDS), stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    assert tokenize(texts) == expected


def bm25s_scores(passages, query):
    import bm25s

    reference = bm25s.BM25()
    reference.index(tokenize(passages), show_progress=False)
    tokens = [t for t in tokenize([query])[0] if t in reference.vocab_dict]
    return np.asarray(reference.get_scores(tokens) if tokens else np.zeros(len(passages)), dtype="float32")


def test_saved_postings_score_exactly_as_bm25s(passages, tmp_path):
    built = Postings.build(passages)
    built.save(tmp_path)
    loaded = Postings.load(tmp_path, len(passages))
    for query in QUERIES:
        expected = bm25s_scores(passages, query)
        (from_saved,) = Bm25([(loaded, None)]).scores(query)
        np.testing.assert_array_equal(from_saved, expected, err_msg=query)  # to the last bit
        np.testing.assert_array_equal(Bm25([(built, None)]).scores(query)[0], from_saved)


def test_segments_with_deleted_passages_score_as_one_collection_of_the_live_ones(passages):
    """Global statistics: document frequencies, passage count and average length are the
    corpus's, so splitting it into segments and deleting passages changes no score."""
    rng = np.random.default_rng(7)
    cuts = [0, 40, 41, 100, len(passages)]  # uneven segments, one of a single passage
    parts, live_texts = [], []
    for first, end in zip(cuts, cuts[1:]):
        live = rng.random(end - first) > 0.25  # about a quarter deleted
        parts.append((Postings.build(passages[first:end]), live))
        live_texts.extend(t for t, keep in zip(passages[first:end], live) if keep)
    segmented, whole = Bm25(parts), Bm25.of_texts(live_texts)
    assert segmented.size == whole.size == len(live_texts)
    assert segmented.average_length == whole.average_length
    for query in QUERIES + ["Syria army Damascus Assad rebels"]:
        scores = segmented.scores(query)
        live_scores = np.concatenate([s[live] for s, (_, live) in zip(scores, parts)])
        np.testing.assert_array_equal(live_scores, whole.scores(query)[0], err_msg=query)
        np.testing.assert_array_equal(live_scores, bm25s_scores(live_texts, query), err_msg=query)
        assert all(not s[~live].any() for s, (_, live) in zip(scores, parts))  # deleted passages score 0
    for token in ("assad", "asylum", "damascus"):
        assert segmented.idf[token] == whole.idf[token]


def test_idf_counts_the_passages_that_hold_each_token(passages):
    keyword = Bm25.of_texts(passages)
    tokens = tokenize(passages)
    for token in ("assad", "asylum", "putin", "damascus"):
        df = sum(token in set(t) for t in tokens)
        assert keyword.idf[token] == pytest.approx(math.log(1 + (len(passages) - df + 0.5) / (df + 0.5)))
    assert set(keyword.idf) == {t for text in tokens for t in text}
    assert keyword.idf.get("zzzzunknown", 1.0) == 1.0


def test_opening_an_index_reads_its_saved_bm25_without_importing_bm25s(hash_index):
    code = (
        "import sys, rag; hits = rag.search('who granted Assad asylum?', index=sys.argv[1]);"
        "print(len(hits), 'bm25s' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(hash_index)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "False", "False"]


def test_postings_saved_for_other_passages_are_refused(passages, tmp_path):
    Postings.build(passages[:3]).save(tmp_path)
    with pytest.raises(ValueError, match="not for these 129 passages"):
        Postings.load(tmp_path, len(passages))


def test_a_collection_without_words_scores_zero(tmp_path):
    empty = Postings.build(["the and", ""])
    empty.save(tmp_path)
    loaded = Postings.load(tmp_path, 2)
    assert Bm25([(loaded, None)]).scores("anything at all")[0].tolist() == [0.0, 0.0]


def test_keyword_index_is_kept_with_the_snapshot(hash_index):
    index = Index.open(hash_index)
    assert keyword_index(index) is keyword_index(index)


def test_dev_questions_score_alike_with_saved_and_rebuilt_bm25(hash_index):
    from rag.evaluation import load_devset
    from rag.search import rank

    index = Index.open(hash_index)
    rebuilt = Bm25.of_texts([c.text for c in index.chunks])
    saved = keyword_index(index)
    for question in load_devset(DEVSET):
        np.testing.assert_array_equal(np.concatenate(saved.scores(question.question)),
                                      rebuilt.scores(question.question)[0])
    assert rank(index, "who granted Assad asylum?", 3, mode="keyword")
