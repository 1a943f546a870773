"""answer(): the question answered in sentences quoted from the passages, each cited.

No model is available offline to rephrase, and none is needed: every sentence of
an answer is a verbatim quote followed by its [n] marker, so an answer can never
say what its source does not. The work is choosing what to quote:

1. split the retrieved passages into sentences;
2. score each against the question: embedding similarity, keyword overlap, the
   passage's rank, and whether it holds the kind of thing asked for (a name for
   "who", a number for "how many", a place for "where");
3. quote the best one, with the sentence before it when it only makes sense with it
   ("…,” the diplomat wrote"); add others only when they add something: the rest of
   a list, or a source that disputes it ("There is no truth to reports …");
4. abstain when even the best sentence scores below a threshold chosen on the dev set.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.dates import human_date
from rag.lexical import fold
from rag.sentences import crosses_paragraphs, paragraph_start, sentence_spans
from rag.types import Answer, Citation, Hit

NOT_FOUND = "The indexed documents don't answer this."


@dataclass(frozen=True)
class AnswerSettings:
    """Weights of the sentence score and the abstention threshold (see ``rag eval``)."""

    similarity: float = 1.0
    overlap: float = 0.5
    rank: float = 0.1
    cue: float = 0.1
    margin: float = 0.5  # weight of the best sentence's lead over the runner-up, in confidence
    threshold: float = 0.85  # on confidence; `rag eval` prints the threshold the dev set supports
    list_margin: float = 0.25
    dispute_margin: float = 0.3
    neighbour_margin: float = 0.25
    inherited: float = 0.8
    variant: float = 0.5  # credit for a question name the sentence spells otherwise
    carried: float = 0.4  # credit for a question word that the sentence's paragraph named before it
    max_quotes: int = 5
    enumeration: int = 3  # names in one sentence that make it the items of a list


SETTINGS = AnswerSettings()

_MIN_SENTENCE = 25
_DENIAL = re.compile(
    r"\b(?:no truth|untrue|not true|false|fake|denied|denies|deny|refuted|rejects? (?:the )?(?:claims?|reports?)|"
    r"baseless|unfounded|no evidence|not (?:been )?confirmed|incorrect|unverified)\b",
    re.I,
)
_LIST_QUESTION = re.compile(
    r"^\s*(?:which|what)\s+(?:\w+\s+){0,2}?(?:countries|nations|states|cities|towns|villages|groups|"
    r"people|leaders|officials|organizations|organisations|companies|places|provinces|areas|sites|"
    r"names|bases|members|parties)\b"
    r"|\b(?:list|name (?:all|the)|who are|what are)\b",
    re.I,
)
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_NAME = re.compile(r"\b[A-Z][\w’'-]*[a-z0-9][\w’'-]*(?:\s+(?:al-|bin\s+|de\s+)?[A-Z][\w’'-]+)*")
_PLACE = re.compile(r"\b(?:in|at|to|from|into|near|towards?|outside)\s+(?:the\s+)?(?:[a-z-]+\s+){0,3}?([A-Z][\w’'-]+)")
_CODE = re.compile(r"\b[A-Z][\w]*-\d[\w-]*\b|\b[A-Z]{2,}\d*\b")
# A sentence that only makes sense after the one before it: "…,” the diplomat wrote.
_LEANS_BACK = re.compile(
    r"^(?:[“\"][^”\"]+[,.!?]?[”\"]\s*,?\s+(?:the|he|she|they)\b|(?:He|She|They|It|This|These|His|Her|Their)\b)"
)


_CAPITALISED = re.compile(r"\b[A-Z]\w{3,}")
_PRONOUN = re.compile(r"\b(?:he|she|they|his|her|their|him|them)\b", re.I)


def question_type(question: str) -> str:
    """'when', 'who', 'where', 'count', 'list', 'which' or 'other', from the wording."""
    q = question.strip().lower()
    if re.match(r"^(?:when|on what (?:date|day)|what (?:date|day))\b", q):
        return "when"
    if re.match(r"^how (?:many|much|big|large|long|old)\b", q):
        return "count"
    if _LIST_QUESTION.search(question):
        return "list"
    if re.match(r"^(?:who|whom|whose)\b", q) or re.search(r"\bwhat(?:'s| is) the name\b", q):
        return "who"
    if re.match(r"^where\b", q):
        return "where"
    if re.match(r"^(?:which|what (?:type|kind|sort))\b", q):
        return "which"
    return "other"


def _new_words(text: str, question: str) -> set[str]:
    asked = set(re.findall(r"[a-z0-9]+", question.lower()))
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in asked and w not in _CALENDAR}


# "3 million displaced Syrians": a number and the words it counts.
_COUNTED = re.compile(
    r"(?:\$?\d[\d,.]*(?:\s+(?:million|billion|thousand))?|\b(?:one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|dozens|hundreds|thousands|millions)\b)(?:\s+[\w’'-]+){1,3}",
    re.I,
)
_COUNTED_MATCH = 0.4  # phrase similarity between what is asked and what is counted (dev set)
_NOT_IN_NOUN_PHRASE = frozenset(
    "did do does are is were was have has had will would could can may might in on at of to for by "
    "during from into with".split()
)


def counted_thing(question: str) -> str | None:
    """What a "how many" question counts: "How many Syrian soldiers died?" → "Syrian soldiers"."""
    match = re.search(r"\bhow (?:many|much)\s+(.*)", question, re.I)
    if not match:
        return None
    words = []
    for word in re.findall(r"[\w’'-]+", match.group(1)):
        if word.lower() in _NOT_IN_NOUN_PHRASE or (words and word.lower().endswith("ed")):
            break
        words.append(word)
    return " ".join(words) or None


def _count_cues(question: str, texts: list[str], embedder) -> list[float]:
    """1.0 for sentences holding a number that counts what the question asks about."""
    thing = counted_thing(question)
    phrases = [[m.group() for m in _COUNTED.finditer(t)] for t in texts]
    flat = [p for group in phrases for p in group]
    if thing is None or not flat:
        return [float(bool(group)) for group in phrases] if thing is None else [0.0] * len(texts)
    vectors = embedder.encode_documents([thing] + flat)
    similarity = vectors[1:] @ vectors[0]
    bounds = np.cumsum([0] + [len(group) for group in phrases])
    return [float(bool((similarity[a:b] >= _COUNTED_MATCH).any())) for a, b in zip(bounds, bounds[1:])]


def _cue(kind: str, sentence: str, question: str) -> float:
    """1.0 when the sentence holds the kind of thing the question asks for, and the
    question does not already hold it (a name the question names answers nothing)."""
    if kind == "where":
        return float(any(_new_words(m.group(1), question) for m in _PLACE.finditer(sentence)))
    if kind in ("who", "list"):
        return float(any(_new_words(m.group(), question) for m in _NAME.finditer(sentence, 1)))
    if kind == "which":
        found = [m.group() for m in _NAME.finditer(sentence, 1)] + _CODE.findall(sentence)
        return float(any(_new_words(f, question) for f in found))
    return 0.0


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    start: int  # offsets in hit.text
    end: int
    score: float
    similarity: float
    cue: float
    overlap: float  # keyword credit, carried and variant credit included

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


def _candidates(question: str, hits: list[Hit], store, settings: AnswerSettings) -> list[_Candidate]:
    from rag.embedding import get_embedder
    from rag.lexical import keyword_index, tokenize

    spans, seen = [], set()
    for hit in hits:
        for s, e in sentence_spans(hit.text):
            place = (hit.source, hit.page, hit.start + s, hit.start + e)
            if e - s >= _MIN_SENTENCE and place not in seen:  # overlapping windows share sentences
                seen.add(place)
                spans.append((hit, s, e))
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

    idf = keyword_index(store).idf  # the passages were tokenised once, for BM25
    question_tokens = set(tokenize([question])[0])
    # "Turkey" in the question, "Türkiye" or "Turkish" in the passage: the same name, spelt otherwise.
    name_tokens = set(tokenize([" ".join(m.group() for m in _QUESTION_NAME.finditer(question))])[0])
    question_weight = sum(idf.get(t, 1.0) for t in question_tokens) or 1.0
    kind = question_type(question)
    cues = _count_cues(question, texts, embedder) if kind == "count" else [_cue(kind, t, question) for t in texts]
    # What the paragraph said before a sentence: "According to Spiegel, Germany's office …
    # More than 47,000 applications are now pending" is about Germany without naming it.
    lead_ins = tokenize([hit.text[paragraph_start(hit.text, s) : s] for hit, s, e in spans])
    candidates = []
    previous_overlap, previous_hit = 0.0, None
    for (hit, s, e), text, similarity, tokens, lead_in, cue in zip(
        spans, texts, similarities, tokenize(texts), lead_ins, cues
    ):
        own = question_tokens & set(tokens)
        own_overlap = sum(idf.get(t, 1.0) for t in own) / question_weight
        carried = (question_tokens & set(lead_in)) - own
        capitalised = {fold(w)[:4] for w in _CAPITALISED.findall(text)}
        variants = {t for t in name_tokens - own if len(t) >= 4 and t[:4] in capitalised}
        overlap = (
            own_overlap
            + settings.carried * sum(idf.get(t, 1.0) for t in carried - variants) / question_weight
            + settings.variant * sum(idf.get(t, 1.0) for t in variants) / question_weight
        )
        if hit is previous_hit and _PRONOUN.search(text):
            # "… he defected and fled to Jordan": "he" is who the sentence before named.
            overlap = max(overlap, settings.inherited * previous_overlap)
        previous_overlap, previous_hit = own_overlap, hit
        score = (
            settings.similarity * float(similarity)
            + settings.overlap * overlap
            + settings.rank / hit.rank
            + settings.cue * cue
        )
        candidates.append(_Candidate(hit, s, e, score, float(similarity), cue, overlap))
    return sorted(candidates, key=lambda c: -c.score)


def _with_context(candidate: _Candidate) -> _Candidate:
    """The candidate, preceded by the sentence it leans on when it can't stand alone."""
    if not _LEANS_BACK.match(candidate.text):
        return candidate
    previous = [s for s, e in sentence_spans(candidate.hit.text) if e <= candidate.start]
    if not previous:
        return candidate
    return dataclasses.replace(candidate, start=previous[-1])


_QUALIFIES = re.compile(r"^(?:However|But|Yet|Still|Nevertheless|Nonetheless)\b")


def _with_qualification(candidate: _Candidate) -> _Candidate:
    """The candidate, followed by the sentence that qualifies it in the same paragraph.

    "… speculation that his plane crashed." "However, no evidence … has been presented.":
    quoting the claim without what its source says next would misreport the source.
    """
    text = candidate.hit.text
    following = [(s, e) for s, e in sentence_spans(text) if s >= candidate.end]
    if not following or crosses_paragraphs(text, candidate.end, following[0][0]):
        return candidate
    start, end = following[0]
    if not _QUALIFIES.match(text[start:end]):
        return candidate
    return dataclasses.replace(candidate, end=end)


def _with_neighbour(best: _Candidate, candidates: list[_Candidate], margin: float) -> _Candidate:
    """The best sentence joined with the next best when that one is its neighbour.

    Two adjacent sentences that both score well usually tell one thing together
    ("The plane … disappeared from radar." "Syrian Airlines Ilyushin Il-76T departed …").
    """
    for other in candidates[1:]:
        if other.score < best.score - margin:
            break
        if other.hit.chunk_id != best.hit.chunk_id:
            continue
        between = best.hit.text[min(best.end, other.end) : max(best.start, other.start)]
        if between.strip() == "" and not crosses_paragraphs(between, 0, len(between)):
            start, end = min(best.start, other.start), max(best.end, other.end)
            return dataclasses.replace(best, start=start, end=end, cue=max(best.cue, other.cue))
    return best


def _enumerates(sentence: str, question: str, settings: AnswerSettings) -> bool:
    """True when the sentence lists several names the question doesn't hold."""
    names = [m.group() for m in _NAME.finditer(sentence, 1) if _new_words(m.group(), question)]
    return len(names) >= settings.enumeration


def _overlaps(a: _Candidate, b: _Candidate) -> bool:
    """True when two quotes share text of the same document page."""
    same_page = (a.hit.source, a.hit.page) == (b.hit.source, b.hit.page)
    return same_page and a.hit.start + a.start < b.hit.start + b.end and b.hit.start + b.start < a.hit.start + a.end


def _select(question: str, candidates: list[_Candidate], settings: AnswerSettings) -> list[_Candidate]:
    """The best sentence, plus the rest of a list or a dispute of it."""
    kind = question_type(question)
    if kind == "count" and counted_thing(question):
        # A "how many" answer must hold the count: quote the best sentence that does.
        candidates = [c for c in candidates if c.cue] or candidates
    best = _with_neighbour(candidates[0], candidates, settings.neighbour_margin)
    chosen = [best]
    if kind in ("who", "where", "which") and not best.cue:
        # The best sentence lacks what was asked (a name, a place): add the best one that has
        # it, from the same passage, or from another passage scoring nearly as well.
        for candidate in candidates[1:]:
            close = candidate.score >= best.score - settings.neighbour_margin
            same_passage = candidate.hit.chunk_id == best.hit.chunk_id
            if candidate.cue and (close or same_passage) and not _overlaps(candidate, best):
                chosen.append(candidate)
                break
    if kind == "list":
        for candidate in candidates[1:]:
            if len(chosen) >= settings.max_quotes or candidate.score < best.score - settings.list_margin:
                break
            if candidate.cue and not any(_overlaps(candidate, c) for c in chosen):
                chosen.append(candidate)
        # "… warned residents of several villages." "The warning refers to Ofaniya, Quneitra and …":
        # the items themselves often follow the sentence that matches the question best.
        # It must share a word with the question ("villages"), or it is just a sentence with names.
        for candidate in candidates[1:]:
            if len(chosen) >= settings.max_quotes:
                break
            same_passage = candidate.hit.chunk_id == best.hit.chunk_id
            if (
                same_passage
                and candidate.overlap > 0
                and _enumerates(candidate.text, question, settings)
                and not any(_overlaps(candidate, c) for c in chosen)
            ):
                chosen.append(candidate)
                break
    best_denies = bool(_DENIAL.search(best.text))
    for candidate in candidates[1:]:
        if candidate.score < best.score - settings.dispute_margin:
            break
        if bool(_DENIAL.search(candidate.text)) != best_denies and not any(_overlaps(candidate, c) for c in chosen):
            chosen.append(candidate)  # one side claims, the other denies: quote both
            break
    chosen = [_with_qualification(_with_context(c)) for c in chosen]
    kept: list[_Candidate] = []
    for candidate in chosen:  # context may have made two quotes overlap
        if not any(_overlaps(candidate, k) for k in kept):
            kept.append(candidate)
    return kept


_DEMONYM = re.compile(r"(?:an|ese|ish|ic)$")
_QUESTION_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b(?:[A-Z][\w’'-]+|[A-Z]{2,})")


def unmentioned_names(question: str, hits: list[Hit]) -> list[str]:
    """Names in the question that no retrieved passage mentions, even by a variant.

    Passages that never name what the question asks about ("Saudi Arabia", "Maher")
    cannot answer it, however close their wording. A variant is a word sharing the
    name's first four letters ("Turkey" ~ "Türkiye", "Syria" ~ "Syrian").
    """
    words = set(re.findall(r"\w+", fold(" ".join(h.text for h in hits))))
    prefixes = {w[:4] for w in words if len(w) >= 4}
    missing = []
    question = question.strip()
    for match in _QUESTION_NAME.finditer(question):
        name = match.group()
        if _DEMONYM.search(name) and re.match(r"\s+[a-z]", question[match.end() :]):
            continue  # "European countries": a kind of thing, not a name to find
        folded = fold(name).split("’")[0].split("'")[0]
        if folded in words or (len(folded) >= 4 and folded[:4] in prefixes):
            continue
        missing.append(name)
    return missing


def could_answer(question: str, hits: list[Hit], candidates: list[_Candidate]) -> bool:
    """False when the passages cannot answer, however high their sentences score."""
    if not candidates or unmentioned_names(question, hits):
        return False
    if question_type(question) == "count" and counted_thing(question):
        # "How many people were killed?" is not answered by "three airstrikes".
        return any(c.cue for c in candidates)
    return True


def confidence(candidates: list[_Candidate], settings: AnswerSettings = SETTINGS) -> float:
    """How sure the best sentence answers: its score, plus how far it leads the next one."""
    if not candidates:
        return float("-inf")
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    return candidates[0].score + settings.margin * (candidates[0].score - runner_up)


def compose(question: str, hits: list[Hit], candidates: list[_Candidate], settings: AnswerSettings = SETTINGS) -> Answer:
    """The Answer for already scored candidate sentences (best first)."""
    if not could_answer(question, hits, candidates) or confidence(candidates, settings) < settings.threshold:
        return Answer(question=question, text=NOT_FOUND, found=False, citations=(), hits=tuple(hits), question_used=question)
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
    return Answer(
        question=question, text=" ".join(parts), found=True, citations=tuple(citations), hits=tuple(hits),
        question_used=question,
    )


def answer(
    question: str,
    k: int = 5,
    *,
    index=None,
    date_from=None,
    date_to=None,
    source: str | None = None,
    history: "Sequence[Answer] | None" = None,
    settings: AnswerSettings = SETTINGS,
) -> Answer:
    """Answer ``question`` with sentences quoted from the k best passages, each cited.

    ``found`` is False, with empty citations, when the passages don't answer it;
    ``hits`` always holds the passages considered. ``history`` holds the earlier
    answers of a conversation, oldest first, for follow-up questions.

    >>> result = answer("who granted Assad asylum?")      # doctest: +SKIP
    >>> result.text                                       # doctest: +SKIP
    'Russian President Vladimir Putin was the one who granted … [1]'
    """
    hits, candidates = score_sentences(
        question, k, index=index, date_from=date_from, date_to=date_to, source=source, settings=settings
    )
    return compose(question, hits, candidates, settings)


def score_sentences(
    question: str, k: int = 5, *, index=None, date_from=None, date_to=None, source=None,
    settings: AnswerSettings = SETTINGS,
):
    """The passages for ``question`` and their sentences scored against it, best first."""
    from rag.search import open_index, search

    hits = search(question, k, index=index, date_from=date_from, date_to=date_to, source=source)
    return hits, _candidates(question.strip(), hits, open_index(index), settings)
