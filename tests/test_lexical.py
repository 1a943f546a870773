"""Keyword retrieval: the tokenizer against bm25s's, the saved BM25 against bm25s's scoring."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from rag import search
from rag.lexical import _STOPWORDS, STOPWORDS_EN, STOPWORDS_EN_PLUS, KeywordIndex, _stemmer, keyword_index, tokenize
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


def test_saved_scores_equal_bm25s_scores(passages, tmp_path):
    import bm25s

    built = KeywordIndex.build(passages)
    ids = np.arange(len(passages), dtype="int64")
    built.save(tmp_path, ids)
    loaded = KeywordIndex.load(tmp_path, ids)
    reference = bm25s.BM25()
    reference.index(tokenize(passages), show_progress=False)
    for query in QUERIES:
        tokens = [t for t in tokenize([query])[0] if t in reference.vocab_dict]
        expected = reference.get_scores(tokens) if tokens else np.zeros(len(passages))
        np.testing.assert_array_equal(loaded.scores(query), np.asarray(expected, dtype="float32"), err_msg=query)
        np.testing.assert_array_equal(built.scores(query), loaded.scores(query))


def test_idf_counts_the_passages_that_hold_each_token(passages):
    keyword = KeywordIndex.build(passages)
    tokens = tokenize(passages)
    for token in ("assad", "asylum", "putin", "damascus"):
        df = sum(token in set(t) for t in tokens)
        assert keyword.idf[token] == pytest.approx(math.log(1 + (len(passages) - df + 0.5) / (df + 0.5)))
    assert set(keyword.idf) == {t for text in tokens for t in text}


def test_opening_an_index_reads_its_saved_bm25_without_importing_bm25s(hash_index):
    code = (
        "import sys, rag; hits = rag.search('who granted Assad asylum?', index=sys.argv[1]);"
        "print(len(hits), 'bm25s' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(hash_index)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "False", "False"]


def test_an_index_without_saved_bm25_rebuilds_it_with_the_same_ranking(hash_index, tmp_path):
    old = tmp_path / "old-index"
    shutil.copytree(hash_index, old)
    for file in old.glob("v*/keyword.*"):
        file.unlink()
    for query in QUERIES[:2]:
        assert search(query, index=old) == search(query, index=hash_index)


def test_saved_bm25_of_other_passages_is_not_used(hash_index, passages, tmp_path, caplog):
    index = Index.open(hash_index)
    version = tmp_path / "v"
    version.mkdir()
    KeywordIndex.build(passages[:3]).save(version, index.ids[:3])
    assert KeywordIndex.load(version, index.ids) is None
    assert "does not match" in caplog.text


def test_a_collection_without_words_scores_zero(tmp_path):
    empty = KeywordIndex.build(["the and", ""])
    empty.save(tmp_path, np.array([0, 1]))
    loaded = KeywordIndex.load(tmp_path, np.array([0, 1]))
    assert loaded.scores("anything at all").tolist() == [0.0, 0.0]


def test_keyword_index_is_kept_with_the_snapshot(hash_index):
    index = Index.open(hash_index)
    assert keyword_index(index) is keyword_index(index)


def test_dev_questions_rank_alike_with_saved_and_rebuilt_bm25(hash_index):
    from rag.evaluation import load_devset
    from rag.search import rank

    index = Index.open(hash_index)
    rebuilt = KeywordIndex.build([c.text for c in index.chunks])
    saved = keyword_index(index)
    for question in load_devset(DEVSET):
        np.testing.assert_array_equal(saved.scores(question.question), rebuilt.scores(question.question))
    assert rank(index, "who granted Assad asylum?", 3, mode="keyword")
