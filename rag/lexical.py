"""Keyword retrieval: BM25 over folded, stemmed, stopword-free tokens.

bm25s builds the BM25 score matrix when an index version is written, and it is saved
with the version (``keyword.*`` files, bm25s's own format). Queries read it back and
score with numpy alone: importing bm25s (and scipy with it) costs ~0.3 s, a third of a
fresh process's budget for its first search. For the same reason the tokenizer is
this module's own; it is bm25s's algorithm (its token pattern and English stopwords,
then PyStemmer), and a test checks that the two agree.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import re
import unicodedata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_KEYWORD_FORMAT = 1
# File names of the saved BM25 inside a version folder (bm25s.BM25.save's arguments).
_FILES = {
    "data_name": "keyword.data.npy",
    "indices_name": "keyword.indices.npy",
    "indptr_name": "keyword.indptr.npy",
    "vocab_name": "keyword.vocab.json",
    "params_name": "keyword.params.json",
}
_OURS = "keyword.json"  # written last: the saved BM25 is complete when this file is there


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


# bm25s.stopwords.STOPWORDS_EN (NLTK's shortest English list), copied so that queries
# need no bm25s; tests/test_lexical.py fails if bm25s's list changes.
STOPWORDS_EN = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with"
).split()

# bm25s.stopwords.STOPWORDS_EN_PLUS (NLTK's full English list), copied for the same reason:
# the words an answer sentence need not share with its question ("now", "also", "very").
STOPWORDS_EN_PLUS = """
    a about above after again against ain all am an and any are aren aren't as at be because
    been before being below between both but by can couldn couldn't d did didn didn't do
    does doesn doesn't doing don don't down during each few for from further had hadn hadn't
    has hasn hasn't have haven haven't having he her here hers herself him himself his how i
    if in into is isn isn't it it's its itself just ll m ma me mightn mightn't more most
    mustn mustn't my myself needn needn't no nor not now o of off on once only or other our
    ours ourselves out over own re s same shan shan't she she's should should've shouldn
    shouldn't so some such t than that that'll the their theirs them themselves then there
    these they this those through to too under until up ve very was wasn wasn't we were
    weren weren't what when where which while who whom why will with won won't wouldn
    wouldn't y you you'd you'll you're you've your yours yourself yourselves
""".split()

# Words that shape a question but never match its answer: "how many … did …".
QUESTION_WORDS = frozenset(
    """what which who whom whose where when why how many much did does do done was were is are
    am been being has have had can could would should will shall may might must there here
    any some all about according""".split()
)

_STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) default token pattern


def fold(text: str) -> str:
    """Lower case without diacritics: a user typing "Turkiye" or "Sao Paulo" meets "Türkiye", "São Paulo"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokenize(texts: list[str]) -> list[list[str]]:
    """Folded, stemmed word tokens without English stopwords and question words.

    The index and the queries go through this one function, or their words never meet.

    >>> tokenize(["Who granted Assad asylum in Moscow?"])
    [['grant', 'assad', 'asylum', 'moscow']]
    """
    words = [[w for w in _TOKEN.findall(fold(text)) if w not in _STOPWORDS] for text in texts]
    stemmer = _stemmer()
    if stemmer is None:
        return words
    unique = list({w: None for text in words for w in text})
    stem = dict(zip(unique, stemmer.stemWords(unique)))
    return [[stem[w] for w in text] for text in words]


def _idf(document_frequency: np.ndarray, vocabulary: dict[str, int], size: int) -> dict[str, float]:
    """Inverse document frequency (BM25's smoothed form) of every token the texts hold."""
    return {
        word: math.log(1 + (size - int(df) + 0.5) / (int(df) + 0.5))
        for word, token_id in vocabulary.items()
        # bm25s adds an empty token past the matrix's columns, for texts without words.
        if token_id < len(document_frequency) and (df := document_frequency[token_id]) > 0
    }


def _fingerprint(chunk_ids: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(chunk_ids, dtype="<i8").tobytes()).hexdigest()[:32]


def keyword_index(store) -> "KeywordIndex":
    """The BM25 index of an Index's passages: read from its version folder, or built
    there and then (an index written before BM25 was saved with it), and kept with it."""
    if "keyword" not in store.cache:
        folder = Path(store.path) / store.version if store.version else None
        saved = KeywordIndex.load(folder, store.ids) if folder is not None else None
        store.cache["keyword"] = saved or KeywordIndex.build([c.text for c in store.chunks])
    return store.cache["keyword"]


class KeywordIndex:
    """BM25 over a fixed list of texts; ``scores`` gives every text's score for a query.

    The score matrix is bm25s's: one column per token, holding that token's BM25 score
    in each text containing it (CSC ``data``/``indices``/``indptr``), so a query's scores
    are the sum of its tokens' columns.
    """

    def __init__(self, size: int, vocabulary: dict[str, int], data, indices, indptr, *, builder=None) -> None:
        self.size = size
        self._vocabulary = vocabulary
        self._data, self._indices, self._indptr = data, indices, indptr
        self._builder = builder  # the bm25s.BM25 that made the matrix, kept to save it
        self.idf = _idf(np.diff(indptr), vocabulary, size) if len(indptr) else {}

    @classmethod
    def _empty(cls, size: int) -> "KeywordIndex":
        return cls(size, {}, np.zeros(0, "float32"), np.zeros(0, "int32"), np.zeros(0, "int32"))

    @classmethod
    def build(cls, texts: list[str]) -> "KeywordIndex":
        """Index ``texts`` with bm25s (lucene BM25, k1=1.5, b=0.75: its defaults)."""
        bm25s = _bm25s()
        tokens = tokenize(texts)
        vocabulary: dict[str, int] = {}
        ids = [[vocabulary.setdefault(t, len(vocabulary)) for t in text] for text in tokens]
        # bm25s cannot index a collection without a single word (only stopwords, or nothing).
        if not vocabulary:
            return cls._empty(len(texts))
        bm25 = bm25s.BM25()
        bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocabulary), show_progress=False)
        scores = bm25.scores
        return cls(len(texts), dict(bm25.vocab_dict), scores["data"], scores["indices"], scores["indptr"], builder=bm25)

    def save(self, folder: Path, chunk_ids: np.ndarray) -> None:
        """Write the score matrix into the version folder ``folder`` (before it goes live).

        ``chunk_ids`` (the texts' ids, in order) are fingerprinted, so that the matrix is
        never read back for another set of passages.
        """
        if self._builder is None and self._vocabulary:
            raise ValueError("only a KeywordIndex made by build() can be saved")
        if self._builder is not None:
            self._builder.save(str(folder), show_progress=False, **_FILES)
        meta = {"format": _KEYWORD_FORMAT, "passages": _fingerprint(chunk_ids), "searchable": bool(self._vocabulary)}
        (folder / _OURS).write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, chunk_ids: np.ndarray) -> "KeywordIndex | None":
        """The BM25 saved in ``folder`` for these passages, or None (then it is rebuilt)."""
        size = len(chunk_ids)
        try:
            meta = json.loads((folder / _OURS).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("%s: the saved keyword index is unreadable (%s); rebuilding it in memory", folder, error)
            return None
        if meta.get("format") != _KEYWORD_FORMAT or meta.get("passages") != _fingerprint(chunk_ids):
            log.warning("%s: the saved keyword index does not match the passages; rebuilding it in memory", folder)
            return None
        if not meta.get("searchable"):
            return cls._empty(size)
        try:
            params = json.loads((folder / _FILES["params_name"]).read_text())
            vocabulary = json.loads((folder / _FILES["vocab_name"]).read_text())
            # Memory-mapped: a big corpus's matrix is paged in as queries touch it.
            arrays = [np.load(folder / _FILES[name], mmap_mode="r") for name in ("data_name", "indices_name", "indptr_name")]
        except (OSError, ValueError) as error:
            log.warning("%s: the saved keyword index is damaged (%s); rebuilding it in memory", folder, error)
            return None
        if params.get("method") != "lucene" or params.get("num_docs") != size:
            log.warning("%s: the saved keyword index is of another kind; rebuilding it in memory", folder)
            return None
        return cls(size, vocabulary, *arrays)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text, in input order (zeros when no query word is known).

        bm25s's own scoring: each query token (repeats count again) adds its column.
        """
        scores = np.zeros(self.size, dtype="float32")
        for token in tokenize([query])[0]:
            token_id = self._vocabulary.get(token)
            if token_id is None:
                continue
            start, end = self._indptr[token_id], self._indptr[token_id + 1]
            np.add.at(scores, self._indices[start:end], self._data[start:end])
        return scores
