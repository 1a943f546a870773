"""Candidate sentences of the retrieved passages, each described by a few general features.

The features are what any reader would weigh: does the sentence mean what the
question means (embedding similarity), share its rarer words (IDF-weighted
overlap), or did its paragraph name them just before (context)? Does it hold the
kind of thing asked for (a name for "who", a number for "how many")? Does it name
what the question names? How well did its passage rank? How they combine is not
set here: scripts/fit_answer_model.py fits it on public QA data (rag/answering/model.py).
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.answering.pronouns import antecedent
from rag.answering.question import AGENT_NOUNS, QuestionAnalysis, mentions, modifier_name
from rag.entities import Entity, by_kind_word, entity_key, nationality_adjective, under_kind_noun, written_as_name
from rag.lexical import fold, keyword_index, tokenize
from rag.sentences import SHORT_LINE, paragraph_start, sentence_spans
from rag.types import Hit

# The order of the features in every vector, and in the fitted weights.
FEATURES = (
    "similarity",  # cosine of the question's and the sentence's embeddings
    "overlap",  # IDF-weighted share of the question's words in the sentence
    "context",  # … of the rest, in its paragraph before it ("he" names who was just named)
    "answer_type",  # holds an entity of the asked type that the question does not hold
    "type_missing",  # a type is asked for and the sentence has none of it
    "names_missing",  # share of the question's names neither the sentence nor its paragraph before it mention
    "passage_similarity",  # cosine of the question's and the passage's embeddings
    "first",  # the passage's first sentence (a lead states the news)
    "length",  # characters / 400, at most 1: fragments rarely answer
    # The same three against the best of the question's candidates: what counts is how a
    # sentence compares with the others, whatever the question's own level of overlap.
    "similarity_gap",
    "overlap_gap",
    "passage_similarity_gap",
)

# A "sentence" shorter than this is a heading or a fragment, not something to quote.
MIN_SENTENCE = 20


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage: ``hit.text[start:end]``."""

    hit: Hit
    start: int
    end: int
    position: int  # the sentence's index in its passage
    features: tuple[float, ...]
    answers: tuple[Entity, ...]  # entities of the asked type the question doesn't hold (offsets in hit.text)
    probability: float = 0.0  # that it answers, from the fitted model
    entities: tuple[Entity, ...] = ()  # every entity of the sentence (offsets in hit.text)
    title: str = ""  # the title of its document (document_title), what the document is about
    passage_entities: tuple[Entity, ...] = ()  # every entity of its passage: who "he" may be

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]

    def feature(self, name: str) -> float:
        return self.features[FEATURES.index(name)]

    @property
    def answer_keys(self) -> frozenset[str]:
        """The answers it names (entities of the asked type), as compared across sentences."""
        return frozenset(entity_key(self.hit.text[e.start : e.end]) for e in self.answers)


class _SentenceVectors:
    """Embeddings of sentences, remembered across questions (passages come back often)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        """Remember vectors got elsewhere (those the index stores), for the short answer's reading."""
        with self._lock:
            self._vectors.update(zip(texts, np.asarray(vectors, dtype="float32")))
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def get(self, embedder, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            from rag.embedding import encode_passages

            fresh = encode_passages(embedder, missing)
            with self._lock:
                self._vectors.update(zip(missing, fresh))
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        with self._lock:
            for text in texts:
                self._vectors.move_to_end(text)
            return np.stack([self._vectors[t] for t in texts])


@functools.lru_cache(maxsize=4)
def sentence_vectors(model: str) -> _SentenceVectors:
    return _SentenceVectors()


def named_in_question(entity_text: str, analysis: QuestionAnalysis, question_words: set[str]) -> bool:
    """True when the question already holds this entity (it can't be the answer)."""
    key = f" {_words_of(entity_text)} "
    if any(f" {_words_of(name)} " in key for name in (*(n for n, _ in analysis.names), *analysis.excluded)):
        return True  # "Marie Curie" when the question asks about "Curie"; "(UN" for "UN"
    # Names are often given with their acronym beside them ("the Syrian Democratic
    # Forces (SDF)"): the acronym of a name the question holds is that name too.
    if any(_abbreviates(entity_text, name) or _abbreviates(name, entity_text) for name, _ in analysis.names):
        return True
    words = set(tokenize([entity_text])[0])
    return bool(words) and words <= question_words


def _words_of(name: str) -> str:
    """A name's key as words alone: the brackets and hyphens an entity's span may hold
    ("the United Nations (UN") are not part of what it names."""
    return " ".join(re.findall(r"\w+", entity_key(name)))


def _abbreviates(short: str, name: str) -> bool:
    """ "SDF" for "Syrian Democratic Forces": the capitals of ``short`` are the initials
    of the name's capitalised words (function words such as "of" are skipped)."""
    if not (2 <= len(short) <= 8 and short.isupper() and short.isalpha()):
        return False
    initials = "".join(word[0] for word in re.findall(r"[\w’'-]+", name) if word[0].isupper())
    return len(initials) >= 2 and initials == short


def _sentence_spans(hit: Hit) -> list[tuple[int, int, int]]:
    return quotable_spans(hit.text)


def quotable_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end, position) of the quotable sentences of a passage's text."""
    return [
        (s, e, i) for i, (s, e) in enumerate(sentence_spans(text))
        if e - s >= MIN_SENTENCE and not is_heading(text, s, e)
    ]


def is_heading(text: str, start: int, end: int) -> bool:
    """A title or heading: a short line of its own with no closing punctuation (as
    rag.sentences reads them). It names a topic in the words a question uses, so it
    would often outscore the sentences under it, but it states nothing to quote.
    A list item ("- Denmark paused …") is content, not a heading."""
    whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    line = text[start:end]
    return (
        whole_line
        and len(line) < SHORT_LINE
        and line[-1] not in ".,;:!?…”\"')]"
        and not re.match(r"^\s*(?:[-–•*]|\d+[.)])\s", line)
    )


def document_title(store, source: str) -> str:
    """The title a document opens with (its first line, when that is a heading), or "".

    A document is about what its title names: a report titled "Northwind Traders annual
    report" says "the company" from its second paragraph on, and "its chief financial
    officer" is Northwind's (select.titled). Counting the title's names as present in
    every sentence of the document, for the names-missing feature, was tried and not
    kept: on the SQuAD held-out half, refused with the paragraph hidden 0.633 → 0.619."""
    record = store.manifest.files.get(source)
    if record is None or not len(record.chunk_ids):
        return ""
    text = store.chunk(min(record.chunk_ids)).text
    line = text.split("\n", 1)[0]
    return line if line.strip() and is_heading(text, 0, len(line)) else ""


def candidates(analysis: QuestionAnalysis, hits: list[Hit], store, query_vector: np.ndarray) -> list[Candidate]:
    """Every quotable sentence of ``hits`` with its features, in passage order.

    Overlapping windows of one entry share sentences: each is kept once, from the
    better-ranked passage.
    """
    spans, seen = [], set()
    for hit in hits:
        for s, e, position in _sentence_spans(hit):
            place = (hit.source, hit.page, hit.start + s, hit.start + e)
            if place not in seen:
                seen.add(place)
                spans.append((hit, s, e, position))
    if not spans:
        return []
    texts = [hit.text[s:e] for hit, s, e, _ in spans]
    vectors = _vectors_of(spans, texts, store)
    similarities = vectors @ query_vector
    passage_similarity = {hit.chunk_id: float(store.vector(hit.chunk_id) @ query_vector) for hit in hits}

    idf = keyword_index(store).idf
    question_words = set(analysis.keywords)
    question_weight = sum(idf.get(t, 1.0) for t in question_words) or 1.0
    sentence_words = tokenize(texts)
    lead_ins = tokenize([hit.text[paragraph_start(hit.text, s) : s] for hit, s, _, _ in spans])
    entities = {hit.chunk_id: tuple(under_kind_noun(hit.text, by_kind_word(hit.text, store.entities(hit.chunk_id)))) for hit in hits}

    titles = {hit.source: document_title(store, hit.source) for hit in hits}
    result = []
    names = [(name, label == "PERSON", set(tokenize([name])[0])) for name, label in analysis.names]
    for (hit, s, e, position), text, similarity, words, lead_in in zip(spans, texts, similarities, sentence_words, lead_ins):
        before = hit.text[paragraph_start(hit.text, s) : s]
        in_sentence = [mentions(text, n, p) for n, p, _ in names]
        in_lead_in = [mentions(before, n, p) for n, p, _ in names]
        # "He resigned" after a sentence naming the person the question asks about says
        # it of that person: the sentence holds the question's name as much as one that
        # repeats it (the context feature only says the paragraph named it before).
        if any(b and not a for a, b in zip(in_sentence, in_lead_in)):
            person = pronoun_person(hit.text, s, e, entities[hit.chunk_id])
            in_sentence = [a or (b and bool(person) and mentions(person, n, p)) for a, b, (n, p, _) in zip(in_sentence, in_lead_in, names)]
        # A name the sentence writes another way ("al-Jolani" for "Abu Mohammed
        # al-Julani") holds the question's words for that name as much as the same spelling.
        own = question_words & (with_agents(words).union(*(t for (_, _, t), m in zip(names, in_sentence) if m)))
        carried = (question_words & with_agents(lead_in).union(*(t for (_, _, t), m in zip(names, in_lead_in) if m))) - own
        inside = [x for x in entities[hit.chunk_id] if s <= x.start and x.end <= e]
        answers = tuple(
            x for x in inside
            if _matches(x.label, analysis.expected)
            and written_as_name(hit.text[x.start : x.end], x.label)
            and not named_in_question(hit.text[x.start : x.end], analysis, question_words)
            # "the [French] daily", "the [Syrian] capital": an adjective, which names no
            # group, person or place; it answers only a question asking a nationality.
            and (analysis.expected == {"NORP"} or not nationality_adjective(hit.text, x))
        )
        typed = bool(analysis.expected)
        title = titles[hit.source]
        missing = sum(not (a or b) for a, b in zip(in_sentence, in_lead_in)) / len(names) if names else 0.0
        features = (
            float(similarity),
            sum(idf.get(t, 1.0) for t in own) / question_weight,
            sum(idf.get(t, 1.0) for t in carried) / question_weight,
            float(typed and bool(answers)),
            # A dated passage answers "when" with its date even where the sentence names
            # none: the day it was reported, which the answer states (compose.py).
            float(typed and not answers and not (analysis.intent == "when" and hit.date)),
            missing,
            passage_similarity[hit.chunk_id],
            float(position == 0),
            min(1.0, (e - s) / 400),
        )
        result.append(Candidate(
            hit, s, e, position, features, answers, entities=tuple(inside), title=title, passage_entities=entities[hit.chunk_id]
        ))
    return _with_gaps(result)


_PERSONAL_PRONOUN = re.compile(r"\b(?:he|she|him|his|her)\b", re.I)


def pronoun_person(text: str, start: int, end: int, entities: tuple[Entity, ...]) -> str:
    """The name of the person the first personal pronoun of ``text[start:end]`` stands
    for (pronouns.antecedent), or "" when it has none or the reading is unsure."""
    pronoun = _PERSONAL_PRONOUN.search(text, start, end)
    person = antecedent(text, pronoun.start(), entities) if pronoun else None
    return text[person.start : person.end] if person else ""


def with_agents(words: list[str]) -> set[str]:
    """``words`` (stemmed) and the verbs of the titles among them: "the leader of X" says
    who leads X, "its founder" who founded it, "the governor" who governs
    (``question.AGENT_NOUNS``); the stemmer keeps such nouns apart from their verbs."""
    found = set(words)
    for word in words:
        found.update(_agent_verbs().get(word, ()))
    return found


@functools.cache
def _agent_verbs() -> dict[str, frozenset[str]]:
    """Each title's stem → the stems of its verb's forms ("leader" → lead, led)."""
    return {tokenize([noun])[0][0]: frozenset(tokenize(list(verbs))[0]) for noun, verbs in AGENT_NOUNS.items()}


def _vectors_of(spans: list[tuple[Hit, int, int, int]], texts: list[str], store) -> np.ndarray:
    """The vectors of the candidate sentences: those the index stores, the rest encoded
    (and remembered across questions)."""
    from rag.embedding import get_embedder

    cache = sentence_vectors(store.manifest.model)
    stored: dict[int, np.ndarray | None] = {}
    for hit, *_ in spans:
        if hit.chunk_id not in stored:
            found = store.sentence_vectors(hit.chunk_id) if hasattr(store, "sentence_vectors") else None
            # Stored for the sentences rag.sentences finds in the chunk's text: taken only
            # for the very text they were stored with, sentence for sentence.
            if found is not None and len(found) != len(sentence_spans(hit.text)):
                found = None
            stored[hit.chunk_id] = found
    rows: list[np.ndarray | None] = [
        None if stored[hit.chunk_id] is None else stored[hit.chunk_id][position] for hit, _, _, position in spans
    ]
    known = [i for i, row in enumerate(rows) if row is not None]
    if known:
        cache.put([texts[i] for i in known], np.stack([rows[i] for i in known]))
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        encoded = cache.get(get_embedder(store.manifest.model), [texts[i] for i in missing])
        for i, vector in zip(missing, encoded):
            rows[i] = vector
    return np.stack([np.asarray(row, dtype="float32") for row in rows])


def _with_gaps(found: list[Candidate]) -> list[Candidate]:
    """Each candidate's features completed with its gaps to the best candidate."""
    import dataclasses

    if not found:
        return found
    columns = [FEATURES.index(name) for name in ("similarity", "overlap", "passage_similarity")]
    best = [max(c.features[i] for c in found) for i in columns]
    return [
        dataclasses.replace(c, features=c.features + tuple(c.features[i] - top for i, top in zip(columns, best)))
        for c in found
    ]


def _matches(label: str, expected: frozenset[str]) -> bool:
    """An entity of an asked type; an untyped name (rules tagger) passes for any name type."""
    if label in expected:
        return True
    return label == "NAME" and bool(expected - {"DATE", "TIME", "CARDINAL", "QUANTITY", "MONEY", "PERCENT"})


def logistic(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, value))))


def unmentioned_names(analysis: QuestionAnalysis, hits: list[Hit]) -> list[str]:
    """Names in the question that no retrieved passage mentions, by any variant.

    Passages that never name what the question asks about cannot answer it, however
    close their wording: this holds for any corpus, so it is a rule, not a weight.
    A name written in lower case in the question does not count: it is as likely a
    common noun that some document capitalises ("state" for "State Department") as a
    name typed without capitals, and refusing on it is the costlier mistake.
    """
    texts = [hit.text for hit in hits]
    return [
        name for name, label in analysis.names
        if not name.islower() and not modifier_name(analysis.text, name, label) and not any(mentions(t, name) for t in texts)
    ]


def topic_unmentioned(analysis: QuestionAnalysis, hits: list[Hit]) -> bool:
    """True when no retrieved passage holds any word of the question's topic (words as
    the index reads them: folded and stemmed). Retrieval always returns the closest
    passages, however far they are: passages that share no word with "quantum
    computing" are about something else, whatever their embeddings say. One shared
    word is enough, so a topic named in other words than the documents use ("the
    international reaction" over passages that say "international" and "condemned")
    still gets its overview; "moon landing" over passages that say "landing" does too,
    which this rule can't tell apart."""
    words = set(tokenize([analysis.topic])[0])
    if not words:
        return False
    if any(words & set(text) for text in tokenize([hit.text for hit in hits])):
        return False
    # A name of the topic that passages write another way ("Turkey" as "Türkiye") is its word too.
    return not any(mentions(hit.text, name) for name, _ in analysis.names if name in analysis.topic for hit in hits)


def folded_words(text: str) -> set[str]:
    return set(fold(text).split())
