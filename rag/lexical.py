"""Keyword retrieval: BM25 over folded, stemmed, stopword-free tokens, across segments.

Each segment of an index saves its term statistics (``Postings``): for every token, the
passages that hold it and how often, plus every passage's length. Scores are not
saved, because BM25's inverse document frequency and average length belong to the
whole corpus: a score baked into one segment would drift as other segments come and
go. ``Bm25`` combines the segments' statistics at query time (only for the query's
tokens), leaving out deleted passages, so a corpus split into many segments ranks
exactly as the same passages indexed at once.

The formula is bm25s's "lucene" BM25 (k1=1.5, b=0.75, its defaults), computed with the
same float32/float64 steps, so that scores equal bm25s's to the last bit (a test checks
it). Queries need numpy alone: importing bm25s (and scipy with it) costs ~0.3 s, a third
of a fresh process's budget for its first search. For the same reason the tokenizer is
this module's own; it is bm25s's algorithm (its token pattern and English stopwords,
then PyStemmer), and a test checks that the two agree.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Iterator

import numpy as np

from rag.markup import readable

log = logging.getLogger(__name__)

# bm25s's defaults for its "lucene" method (Kamphuis et al., ECIR 2020, "Which BM25 do you
# mean?"); the index was always scored with them.
K1 = 1.5
B = 0.75

_POSTINGS_FORMAT = 1
_ARRAYS = ("indptr", "positions", "tf", "lengths")
_META = "keyword.json"  # written last: the saved postings are complete when this file is there


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
    if text.isascii():  # nothing to decompose: the common case, 6x faster than the general one
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokenize(texts: list[str]) -> list[list[str]]:
    """Folded, stemmed word tokens without English stopwords and question words.

    The index and the queries go through this one function, or their words never meet.

    >>> tokenize(["Who granted Assad asylum in Moscow?"])
    [['grant', 'assad', 'asylum', 'moscow']]
    """
    # A link's address and code marks are no words of the text (rag.markup).
    words = [[w for w in _TOKEN.findall(fold(readable(text))) if w not in _STOPWORDS] for text in texts]
    stemmer = _stemmer()
    if stemmer is None:
        return words
    unique = list({w: None for text in words for w in text})
    stem = dict(zip(unique, stemmer.stemWords(unique)))
    return [[stem[w] for w in text] for text in words]


class Postings:
    """One segment's term statistics: for each token (a column), the passages that hold it
    (their positions in the segment) and how often, and every passage's length in tokens.

    The column arrays are CSC-like: token ``c``'s passages are ``positions[indptr[c]:indptr[c+1]]``
    (ascending) with counts ``tf[...]``. Saved, they are memory-mapped ``.npy`` files and the
    vocabulary (token → column) is an SQLite table, so opening reads nothing but headers.
    """

    def __init__(self, vocabulary, indptr, positions, tf, lengths, *, total_length: int | None = None) -> None:
        self._vocabulary = vocabulary  # a dict, or an sqlite3 connection to keyword.sqlite
        self._lock = threading.Lock()
        # Plain ndarray views of the memory maps: slicing an np.memmap makes a memmap each time,
        # whose bookkeeping cost more than the arithmetic on a million-passage index.
        self.indptr, self.positions, self.tf, self.lengths = (np.asarray(a) for a in (indptr, positions, tf, lengths))
        self.size = len(lengths)
        self.total_length = int(np.sum(lengths, dtype="int64")) if total_length is None else total_length

    @classmethod
    def build(cls, texts: list[str]) -> "Postings":
        """The postings of ``texts``, in memory (``save`` writes them)."""
        vocabulary: dict[str, int] = {}
        columns: list[int] = []
        rows: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(texts), dtype="int32")
        for position, tokens in enumerate(tokenize(texts)):
            lengths[position] = len(tokens)
            for token, count in Counter(tokens).items():
                columns.append(vocabulary.setdefault(token, len(vocabulary)))
                rows.append(position)
                counts.append(count)
        column = np.asarray(columns, dtype="int64")
        order = np.argsort(column, kind="stable")  # rows stay ascending within a column
        indptr = np.zeros(len(vocabulary) + 1, dtype="int64")
        np.cumsum(np.bincount(column, minlength=len(vocabulary)), out=indptr[1:])
        tf = np.asarray(counts, dtype="int64")[order]
        # A passage has at most ~1,000 characters, so counts fit 16 bits; a pathological
        # one (a single huge sentence) keeps 32.
        tf_type = "uint16" if len(tf) == 0 or tf.max() < 1 << 16 else "uint32"
        return cls(
            vocabulary, indptr, np.asarray(rows, dtype="int32")[order], tf.astype(tf_type), lengths
        )

    def save(self, folder: Path) -> None:
        """Write the postings into the segment folder ``folder`` (before it goes live)."""
        if not isinstance(self._vocabulary, dict):
            raise ValueError("only postings made by build() can be saved")
        for name in _ARRAYS:
            np.save(folder / f"keyword.{name}.npy", np.ascontiguousarray(getattr(self, name)))
        database = sqlite3.connect(folder / "keyword.sqlite")
        try:
            database.execute("PRAGMA journal_mode=OFF")  # the whole folder is fsynced, then renamed in
            database.execute("CREATE TABLE vocabulary (token TEXT PRIMARY KEY, col INTEGER NOT NULL) STRICT, WITHOUT ROWID")
            database.executemany("INSERT INTO vocabulary VALUES (?, ?)", self._vocabulary.items())
            database.commit()
        finally:
            database.close()
        meta = {"format": _POSTINGS_FORMAT, "passages": self.size, "tokens": len(self._vocabulary),
                "postings": len(self.positions), "tf": self.tf.dtype.str, "total_length": self.total_length}
        (folder / _META).write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, size: int) -> "Postings":
        """The postings saved in ``folder`` for ``size`` passages; ValueError saying what is wrong."""
        try:
            meta = json.loads((folder / _META).read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read {_META} ({error})") from None
        if not isinstance(meta, dict) or meta.get("format") != _POSTINGS_FORMAT or meta.get("passages") != size:
            raise ValueError(f"{_META} is not of this version or not for these {size:,} passages")
        tokens, postings, tf_type = meta.get("tokens"), meta.get("postings"), meta.get("tf")
        if not isinstance(tokens, int) or not isinstance(postings, int) or tf_type not in ("<u2", "<u4"):
            raise ValueError(f"{_META} is damaged")
        try:
            arrays = {
                "indptr": map_array(folder / "keyword.indptr.npy", "<i8", tokens + 1),
                "positions": map_array(folder / "keyword.positions.npy", "<i4", postings),
                "tf": map_array(folder / "keyword.tf.npy", tf_type, postings),
                "lengths": map_array(folder / "keyword.lengths.npy", "<i4", size),
            }
        except ValueError as error:
            raise ValueError(f"cannot read the keyword arrays ({error})") from None
        if int(arrays["indptr"][-1]) != postings:
            raise ValueError("the keyword arrays disagree with each other")
        vocabulary = _open_readonly(folder / "keyword.sqlite")
        return cls(vocabulary, **arrays, total_length=int(meta.get("total_length", 0)))

    def columns(self, tokens) -> dict[str, int]:
        """The column of each of ``tokens`` this segment holds."""
        if isinstance(self._vocabulary, dict):
            return {t: self._vocabulary[t] for t in tokens if t in self._vocabulary}
        tokens = list(dict.fromkeys(tokens))
        found: dict[str, int] = {}
        with self._lock:
            for first in range(0, len(tokens), 500):  # SQLite's limit on parameters is far above
                part = tokens[first : first + 500]
                query = f"SELECT token, col FROM vocabulary WHERE token IN ({','.join('?' * len(part))})"
                found.update(self._vocabulary.execute(query, part).fetchall())
        return found

    def tokens(self) -> Iterator[str]:
        """Every token of the segment (in no particular order)."""
        if isinstance(self._vocabulary, dict):
            yield from self._vocabulary
            return
        with self._lock:
            rows = self._vocabulary.execute("SELECT token FROM vocabulary").fetchall()
        for (token,) in rows:
            yield token

    def column(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, counts) of the passages holding the token in column ``col``."""
        start, end = int(self.indptr[col]), int(self.indptr[col + 1])
        return self.positions[start:end], self.tf[start:end]


def map_array(path: Path, dtype: str, count: int) -> np.ndarray:
    """The ``.npy`` file at ``path`` (``count`` values of ``dtype``), memory-mapped read-only.

    The header is read here rather than by ``np.load``, which parses it with
    ``ast.literal_eval``: on Python 3.11, compiling in several threads at once can fail
    ("AST constructor recursion depth mismatch", CPython gh-106905), and the app opens
    indexes from several threads. The layout is known anyway: it is checked, not parsed.
    """
    dtype = np.dtype(dtype)
    try:
        with open(path, "rb") as handle:
            start = handle.read(12)
            size = handle.seek(0, 2)
    except OSError as error:
        raise ValueError(f"cannot read {path.name} ({error.strerror})") from None
    if len(start) < 10 or not start.startswith(b"\x93NUMPY"):
        raise ValueError(f"{path.name} is not a numpy array file")
    if start[6] == 1:
        offset = 10 + int.from_bytes(start[8:10], "little")
    else:
        offset = 12 + int.from_bytes(start[8:12], "little")
    with open(path, "rb") as handle:
        header = handle.read(offset).decode("latin-1")
    if f"'descr': '{dtype.str}'" not in header or f"'shape': ({count}," not in header or size != offset + count * dtype.itemsize:
        raise ValueError(f"{path.name} does not hold {count:,} values of {dtype.str} (cut short, or of another segment)")
    if count == 0:
        return np.zeros(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,))


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to an SQLite file of a segment, which never changes once written.

    ``immutable=1`` skips SQLite's locking and change checks: nothing writes a segment after it
    goes live. The file is opened at once, so a reader keeps it even after a merge deletes it.
    """
    if not path.is_file():
        raise ValueError(f"{path.name} is missing")
    # SQLite notices a file cut short only when a query reaches the missing pages; its
    # header says how long the file should be (https://www.sqlite.org/fileformat.html).
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) == 100 and header.startswith(b"SQLite format 3\x00") and header[24:28] == header[92:96]:
        page_size = int.from_bytes(header[16:18], "big")
        expected = (65536 if page_size == 1 else page_size) * int.from_bytes(header[28:32], "big")
        if path.stat().st_size != expected:
            raise ValueError(f"{path.name} is cut short ({path.stat().st_size:,} of {expected:,} bytes)")
    elif header:
        raise ValueError(f"{path.name} is not an SQLite database")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as error:
        raise ValueError(f"cannot read {path.name} ({error})") from None
    return connection


class Bm25:
    """BM25 over the live passages of several segments, with corpus-wide statistics.

    ``parts`` pairs each segment's ``Postings`` with the mask of its live passages (None when
    none is deleted). Document frequencies, the passage count and the average length are
    those of the live passages of all parts together, as if they were one collection.

    >>> bm25 = Bm25([(Postings.build(["harbour reopened", "snow closed the pass"]), None)])
    >>> [round(float(s), 4) for s in bm25.scores("harbour")[0]]
    [0.3047, 0.0]
    """

    def __init__(self, parts: list[tuple[Postings, np.ndarray | None]]) -> None:
        self.parts = parts
        self.size = sum(p.size if live is None else int(np.count_nonzero(live)) for p, live in parts)
        total = sum(
            p.total_length if live is None else int(np.sum(p.lengths[live], dtype="int64")) for p, live in parts
        )
        # bm25s takes numpy's mean of the lengths (float64); for integers that is total / size exactly.
        self.average_length = total / self.size if self.size else 0.0
        self.idf = _Idf(self)
        self._norms: list[np.ndarray | None] = [None] * len(parts)
        self._norms_lock = threading.Lock()

    def _length_norm(self, number: int) -> np.ndarray:
        """BM25's length term ``k1 * (1 - b + b * length / average)`` of each passage of part
        ``number`` (float64, as bm25s computes it): computed once per snapshot, not per query."""
        with self._norms_lock:
            if self._norms[number] is None:
                lengths = self.parts[number][0].lengths.astype("float64")
                self._norms[number] = K1 * ((1 - B) + B * lengths / self.average_length)
            return self._norms[number]

    @classmethod
    def of_texts(cls, texts: list[str]) -> "Bm25":
        """BM25 over ``texts`` as one segment (for tests and small collections)."""
        return cls([(Postings.build(texts), None)])

    def document_frequencies(self, tokens) -> tuple[dict[str, int], list[dict[str, int]]]:
        """Each token's live document frequency over all parts, and each part's columns."""
        columns = [postings.columns(tokens) for postings, _ in self.parts]
        frequencies: dict[str, int] = {}
        for (postings, live), found in zip(self.parts, columns):
            for token, col in found.items():
                start, end = int(postings.indptr[col]), int(postings.indptr[col + 1])
                count = end - start if live is None else int(np.count_nonzero(live[postings.positions[start:end]]))
                frequencies[token] = frequencies.get(token, 0) + count
        return frequencies, columns

    def scores(self, query: str) -> list[np.ndarray]:
        """Each part's BM25 scores for ``query`` (float32, by position; 0 for deleted passages).

        As bm25s scores: each query token (repeats count again) adds
        ``float32(idf) * tf / (k1 * (1 - b + b * length / average) + tf)``, rounded to float32.
        """
        tokens = tokenize([query])[0]
        result = [np.zeros(postings.size, dtype="float32") for postings, _ in self.parts]
        if not tokens or not self.size:
            return result
        frequencies, columns = self.document_frequencies(tokens)
        idf = {t: np.float32(_idf(df, self.size)) for t, df in frequencies.items() if df > 0}
        for number, ((postings, live), found, scores) in enumerate(zip(self.parts, columns, result)):
            norm = None
            for token in tokens:
                col = found.get(token)
                if col is None or token not in idf:
                    continue
                norm = self._length_norm(number) if norm is None else norm
                positions, counts = postings.column(col)
                tf = counts.astype("float64")
                tfc = tf / (norm[positions] + tf)
                # Positions are unique within a column, so += adds each passage once.
                scores[positions] += (np.float64(idf[token]) * tfc).astype("float32")
            if live is not None:
                scores[~live] = 0.0
        return result


def _idf(document_frequency: int, size: int) -> float:
    """Inverse document frequency, lucene's smoothed form (bm25s's ``_score_idf_lucene``)."""
    return math.log(1 + (size - document_frequency + 0.5) / (document_frequency + 0.5))


class _Idf(Mapping):
    """Corpus-wide IDF of any token, computed when first asked for (answers weigh words by it)."""

    def __init__(self, bm25: Bm25) -> None:
        self._bm25 = bm25
        self._known: dict[str, float | None] = {}
        self._lock = threading.Lock()

    def __getitem__(self, token: str) -> float:
        with self._lock:
            if token not in self._known:
                frequencies, _ = self._bm25.document_frequencies([token])
                df = frequencies.get(token, 0)
                self._known[token] = _idf(df, self._bm25.size) if df > 0 else None
            value = self._known[token]
        if value is None:
            raise KeyError(token)
        return value

    def __iter__(self) -> Iterator[str]:
        """Every token some live passage holds (reads every vocabulary: for tests)."""
        tokens = {t for postings, _ in self._bm25.parts for t in postings.tokens()}
        return iter(sorted(t for t in tokens if t in self))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def keyword_index(store) -> Bm25:
    """The BM25 of an opened Index (kept with the snapshot)."""
    return store.keyword
