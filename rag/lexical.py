"""Keyword retrieval: BM25 (bm25s) over stemmed, stopword-free tokens."""

from __future__ import annotations

import functools
import logging
import math
import unicodedata

import numpy as np


@functools.lru_cache(maxsize=1)
def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import; let the application decide instead.
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


@functools.lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer
    except ImportError:  # stemming helps recall but is not essential
        return None
    return Stemmer.Stemmer("english")


# Words that shape a question but never match its answer: "how many … did …".
QUESTION_WORDS = frozenset(
    """what which who whom whose where when why how many much did does do done was were is are
    am been being has have had can could would should will shall may might must there here
    any some all about according""".split()
)


@functools.lru_cache(maxsize=1)
def _stopwords() -> list[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return sorted(set(STOPWORDS_EN) | QUESTION_WORDS)


def fold(text: str) -> str:
    """Lower case without diacritics: a user typing "Turkiye" or "Sao Paulo" meets "Türkiye", "São Paulo"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _tokens(texts: list[str], *, return_ids: bool):
    # The index and the queries must be tokenised alike, or their words never meet.
    return _bm25s().tokenize(
        [fold(t) for t in texts], stopwords=_stopwords(), stemmer=_stemmer(), return_ids=return_ids, show_progress=False
    )


def tokenize(texts: list[str]) -> list[list[str]]:
    """Folded, stemmed word tokens without English stopwords and question words."""
    return _tokens(texts, return_ids=False)


def _idf(tokens, size: int) -> dict[str, float]:
    """Inverse document frequency (BM25's smoothed form) of every token of the texts."""
    counts: dict[int, int] = {}
    for ids in tokens.ids:
        for token_id in set(ids):
            counts[token_id] = counts.get(token_id, 0) + 1
    words = {token_id: word for word, token_id in tokens.vocab.items()}
    return {words[t]: math.log(1 + (size - c + 0.5) / (c + 0.5)) for t, c in counts.items()}


def keyword_index(store) -> "KeywordIndex":
    """The BM25 index of an Index's passages, built on first use and kept with it."""
    if "keyword" not in store.cache:
        store.cache["keyword"] = KeywordIndex([c.text for c in store.chunks])
    return store.cache["keyword"]


class KeywordIndex:
    """BM25 over a fixed list of texts; ``scores`` gives every text's score for a query."""

    def __init__(self, texts: list[str]) -> None:
        bm25s = _bm25s()
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        tokens = _tokens(texts, return_ids=True)
        # bm25s cannot index a collection without a single word (only stopwords, or nothing).
        self._searchable = any(len(ids) for ids in tokens.ids)
        if self._searchable:
            self._bm25.index(tokens, show_progress=False)
        self.idf = _idf(tokens, self.size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text, in input order (zeros when no query word is known)."""
        if not self._searchable:
            return np.zeros(self.size, dtype="float32")
        vocabulary = self._bm25.vocab_dict
        tokens = [t for t in tokenize([query])[0] if t and t in vocabulary]
        if not tokens:
            return np.zeros(self.size, dtype="float32")
        return np.asarray(self._bm25.get_scores(tokens), dtype="float32")
