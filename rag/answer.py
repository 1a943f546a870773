"""answer(): the question answered in sentences quoted from the passages, each cited.

No model is available offline to rephrase, and none is needed: every sentence of
an answer is a verbatim quote followed by its [n] marker, so an answer can never
say what its source does not. The work is choosing which sentences to quote:

1. split the retrieved passages into sentences;
2. score each against the question: embedding similarity, keyword overlap, the
   passage's rank, and whether it holds the kind of thing asked for (a name for
   "who", a number for "how many");
3. quote the best one; add others only when they add something: the rest of a list,
   or a source that disputes it ("There is no truth to reports …");
4. abstain when even the best sentence scores below a threshold chosen on the dev set.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.dates import human_date
from rag.sentences import sentence_spans
from rag.types import Answer, Citation, Hit

NOT_FOUND = "The indexed documents don't answer this."


@dataclass(frozen=True)
class AnswerSettings:
    """Weights of the sentence score and the abstention threshold (see ``rag eval``)."""

    similarity: float = 1.0
    overlap: float = 0.5
    rank: float = 0.1
    cue: float = 0.1
    threshold: float = 0.45
    list_margin: float = 0.12
    dispute_margin: float = 0.2
    max_quotes: int = 4


SETTINGS = AnswerSettings()

_MIN_SENTENCE = 25
_DENIAL = re.compile(
    r"\b(?:no truth|untrue|not true|false|fake|denied|denies|deny|refuted|rejects? (?:the )?(?:claims?|reports?)|"
    r"baseless|unfounded|no evidence|not (?:been )?confirmed|incorrect)\b",
    re.I,
)
_LIST_QUESTION = re.compile(
    r"^\s*(?:which|what)\s+(?:\w+\s+){0,2}?(?:countries|nations|states|cities|towns|villages|groups|"
    r"people|leaders|officials|organizations|organisations|companies|places|provinces|areas|\w+s)\b"
    r"|\b(?:list|name (?:all|the)|who are|what are)\b",
    re.I,
)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?)\b", re.I)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


def question_type(question: str) -> str:
    """'when', 'who', 'where', 'count', 'list' or 'other', from the question's wording."""
    q = question.strip().lower()
    if re.match(r"^(?:when|on what (?:date|day)|what (?:date|day))\b", q):
        return "when"
    if re.match(r"^how (?:many|much)\b", q):
        return "count"
    if _LIST_QUESTION.search(question):
        return "list"
    if re.match(r"^(?:who|whom|whose)\b", q) or "what's the name" in q or "what is the name" in q:
        return "who"
    if re.match(r"^where\b", q):
        return "where"
    return "other"


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    start: int  # offsets in hit.text
    end: int
    score: float
    similarity: float

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


def _cue(kind: str, sentence: str, question: str) -> float:
    """1.0 when the sentence holds the kind of thing the question asks for."""
    if kind == "count":
        return float(bool(_NUMBER.search(sentence)))
    if kind in ("who", "where", "list"):
        asked = set(re.findall(r"[a-z]+", question.lower()))
        names = {w.lower() for w in _CAPITALISED.findall(sentence)} - asked
        return float(bool(names))
    return 0.0


def _candidates(question: str, hits: list[Hit], store, settings: AnswerSettings) -> list[_Candidate]:
    from rag.embedding import get_embedder
    from rag.lexical import tokenize

    spans = [
        (hit, s, e)
        for hit in hits
        for s, e in sentence_spans(hit.text)
        if e - s >= _MIN_SENTENCE
    ]
    if not spans:
        return []
    embedder = get_embedder(store.manifest.model)
    cache: dict[str, np.ndarray] = store.cache.setdefault("sentence_vectors", {})
    texts = [hit.text[s:e] for hit, s, e in spans]
    missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        cache.update(zip(missing, embedder.encode_documents(missing)))
    query_vector = embedder.encode_query(question)[0]
    similarities = np.stack([cache[t] for t in texts]) @ query_vector

    idf = _idf(store)
    question_tokens = set(tokenize([question])[0])
    question_weight = sum(idf.get(t, 1.0) for t in question_tokens) or 1.0
    kind = question_type(question)
    candidates = []
    for (hit, s, e), text, similarity, tokens in zip(spans, texts, similarities, tokenize(texts)):
        overlap = sum(idf.get(t, 1.0) for t in question_tokens & set(tokens)) / question_weight
        score = (
            settings.similarity * float(similarity)
            + settings.overlap * overlap
            + settings.rank / hit.rank
            + settings.cue * _cue(kind, text, question)
        )
        candidates.append(_Candidate(hit, s, e, score, float(similarity)))
    return sorted(candidates, key=lambda c: -c.score)


def _idf(store) -> dict[str, float]:
    """Inverse document frequency of every token over the index's passages."""
    if "idf" not in store.cache:
        from rag.lexical import tokenize

        counts: dict[str, int] = {}
        for tokens in tokenize([c.text for c in store.chunks]):
            for token in set(tokens):
                counts[token] = counts.get(token, 0) + 1
        n = len(store.chunks)
        store.cache["idf"] = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in counts.items()}
    return store.cache["idf"]


def _select(question: str, candidates: list[_Candidate], settings: AnswerSettings) -> list[_Candidate]:
    """The best sentence, plus the rest of a list or a dispute of it."""
    best = candidates[0]
    chosen = [best]
    used_chunks = {best.hit.chunk_id}
    kind = question_type(question)
    if kind == "list":
        for candidate in candidates[1:]:
            if len(chosen) >= settings.max_quotes or candidate.score < best.score - settings.list_margin:
                break
            if candidate.hit.chunk_id not in used_chunks:
                chosen.append(candidate)
                used_chunks.add(candidate.hit.chunk_id)
    best_denies = bool(_DENIAL.search(best.text))
    for candidate in candidates[1:]:
        if candidate.score < best.score - settings.dispute_margin:
            break
        if candidate.hit.chunk_id in used_chunks:
            continue
        if bool(_DENIAL.search(candidate.text)) != best_denies:
            chosen.append(candidate)  # one side claims, the other denies: quote both
            break
    return chosen


def compose(question: str, hits: list[Hit], candidates: list[_Candidate], settings: AnswerSettings = SETTINGS) -> Answer:
    """The Answer for already scored candidate sentences (best first)."""
    if not candidates or candidates[0].score < settings.threshold:
        return Answer(question=question, text=NOT_FOUND, found=False, citations=(), hits=tuple(hits))
    chosen = _select(question, candidates, settings)
    when = question_type(question) == "when"
    citations, parts = [], []
    for marker, candidate in enumerate(chosen, start=1):
        hit = candidate.hit
        citations.append(
            Citation(
                marker=marker,
                hit=hit,
                quote=candidate.text,
                start=hit.start + candidate.start,
                end=hit.start + candidate.end,
            )
        )
        prefix = f"On {human_date(hit.date)}: " if when and hit.date else ""
        parts.append(f"{prefix}{candidate.text} [{marker}]")
    return Answer(question=question, text=" ".join(parts), found=True, citations=tuple(citations), hits=tuple(hits))


def answer(
    question: str,
    k: int = 5,
    *,
    index=None,
    date_from=None,
    date_to=None,
    settings: AnswerSettings = SETTINGS,
) -> Answer:
    """Answer ``question`` with sentences quoted from the k best passages, each cited.

    ``found`` is False, with empty citations, when the passages don't answer it;
    ``hits`` always holds the passages considered.

    >>> result = answer("who granted Assad asylum?")      # doctest: +SKIP
    >>> result.text                                       # doctest: +SKIP
    'Russian President Vladimir Putin was the one who granted … [1]'
    """
    hits, candidates = score_sentences(question, k, index=index, date_from=date_from, date_to=date_to, settings=settings)
    return compose(question, hits, candidates, settings)


def score_sentences(question: str, k: int = 5, *, index=None, date_from=None, date_to=None, settings: AnswerSettings = SETTINGS):
    """The passages for ``question`` and their sentences scored against it, best first."""
    from rag.search import open_index, search

    hits = search(question, k, index=index, date_from=date_from, date_to=date_to)
    return hits, _candidates(question.strip(), hits, open_index(index), settings)
