"""Short answers: which words of the best sentence answer the question.

Every short run of words in the sentence is a candidate: its named entities, and
each stretch of up to ``MAX_WORDS`` words that holds no punctuation and no common
English word other than those joining a name ("Bank of England"): the words between
"was", "that" and commas are where names, numbers and noun phrases lie. Each is
described by general features, the ones a reader uses without understanding the
topic: is it of the type asked for, is it a whole name, does the question already
hold it, how close does it stand to the words it shares with the question, do the
words just before or after it come from the question ("born in ___" for "born in
what city?"). A model fitted on public QA data (scripts/fit_answer_model.py,
rag/answering/model.py: ShortModel) ranks them and says how likely the best one
holds the answer; it is shown only when that is likely enough.

The few best spans are then read once more with the embedding model: the sentence
with the span replaced by the question's asking word ("___ granted asylum" becomes
"who granted asylum") comes closer to the question when the span is what it asks for
(``fill_gains``). That costs one encoding per span, so only the ``FILL_TOP`` best are
read this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from rag.answering.candidates import named_in_question, with_agents
from rag.answering.pronouns import antecedent
from rag.answering.question import AMOUNTS, DATES, QuestionAnalysis, noun_labels
from rag.entities import Entity
from rag.lexical import STOPWORDS_EN_PLUS, QUESTION_WORDS, fold, tokenize

if TYPE_CHECKING:
    from rag.answering.model import ShortModel
    from rag.parsing import Parse

# A short answer is a name, a number, a date or a noun phrase, not a clause.
MAX_WORDS = 5
# How many of the best spans are read again with the embedding model (one encoding
# each, ~7 ms here). On the SQuAD held-out half the best span held the answer 0.328 of
# the time with none, 0.337 with the best 3 and 0.341 with the best 8.
FILL_TOP = 3

SPAN_FEATURES = (
    "entity",  # the span is exactly one named entity
    "type_match",  # … of a type the question asks for
    "type_inside",  # the span lies inside or around an entity of an asked type, not exactly on it
    "cuts_entity",  # the span cuts a named entity in two (half a name)
    "untyped_entity",  # the question asks for no type and the span is a whole entity
    "typed_miss",  # a type is asked for and the span touches no entity of it
    "in_question",  # share of the span's words the question holds (an answer is new information)
    "near",  # 1 / (1 + words between the span and the nearest word shared with the question)
    "spread",  # mean distance to each shared question word, / 10
    "before_asked",  # the word just before the span is a word of the question
    "after_asked",  # the word just after the span is a word of the question
    "one_word",
    "two_words",
    "long",  # 4 words or more
    "digit",  # holds a digit
    "digit_asked",  # holds a digit and a number or a date is asked for
    "capital",  # starts with a capital letter inside the sentence
    "verb_like",  # holds a lower-case word with a verb's or adverb's ending
    "named_before",  # just after "called", "named", "known as", "as": words that introduce a name
    "copula_after",  # just before "is", "was", "are", "were": the subject of a definition
    "wh_neighbour",  # within two words of a word that stands next to the question word in the question
    "window",  # share of the question's words within three words of the span
    "any_in_question",  # some word of the span is in the question
    "bracketed",  # right after "(" or a comma: an aside, often the name or figure of what precedes
    "passive_agent",  # after "by" (and an article) that follows a word of the question: "designed by [X]"
    "pronoun",  # "he" or "she", read as the person it stands for (its entity features are that person's)
    "counted",  # "how many X": the span holds X or stands within four words before it ("[30] ISIS fighters")
    # From the sentence's dependency parse (rag/parsing.py; all 0 without one). The
    # word of the span nearest the root of the parse is its head word.
    "tree_near",  # 1 / (1 + edges from the head word to the nearest word shared with the question)
    "tree_spread",  # mean edges to each shared word, / 10 (at most 2)
    "governor_asked",  # the word the head word depends on is a word of the question ("[Smith] signed")
    "object_of_asked",  # object of a verb of the question, also through a preposition ("signed by [X]")
    "same_clause",  # the head word and a word shared with the question hang on the same verb
    # The head word's relation to the rest: subjects, objects and appositions hold
    # answers; the parts of a compound or a modifier, less often.
    "dep_nsubj",
    "dep_nsubjpass",
    "dep_dobj",
    "dep_pobj",
    "dep_attr",
    "dep_appos",
    "dep_compound",
    "dep_amod",
    "dep_conj",
    "dep_npadvmod",
    "dep_poss",
    "dep_nummod",
)
_DEPENDENCIES = ("nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "compound", "amod", "conj", "npadvmod", "poss", "nummod")
_OBJECTS = frozenset({"dobj", "pobj", "attr"})
# No path between two words (a parse in pieces): as far as a sentence's words lie.
_NO_PATH = 20

_WORD = re.compile(r"\d[\d,.:/]*\d|\w(?:[\w’'.-]*\w)?")
_BREAKS = frozenset(STOPWORDS_EN_PLUS) | QUESTION_WORDS
_NUMBERS = AMOUNTS | DATES
# Common words that join the parts of one name or noun phrase ("Bank of England",
# "sand and gravel"); a span holding any other ("bits are called") is a clause.
# The particles of names ("de Gaulle", "van Gogh", "bin Rashid") are among them, and
# they mean nothing alone: a question's "Charles de Gaulle" shares no word with "Place
# de la Concorde", so they never count as words the question and a span share.
_NAME_PARTICLES = frozenset("al el de du da la le von van bin ibn".split())
_JOINERS = frozenset("of the and a an for".split()) | _NAME_PARTICLES
# Words that introduce a name ("known as", "called"), and the verbs of a definition
# ("X is the …"): where the thing a "what is …" question asks for tends to stand.
_NAMING = frozenset("called named known as termed dubbed titled".split())
_COPULAS = frozenset("is was are were".split())
# Word endings of English verbs and adverbs ("captured", "fleeing", "quickly"): an answer
# is mostly a name, a number or a noun phrase.
_VERB_LIKE = re.compile(r"^[a-z]+(?:ed|ing|ly)$")


@dataclass(frozen=True)
class Span:
    """Candidate short answer: ``text[start:end]`` of the passage; for a pronoun, the
    name it stands for is ``text[named[0]:named[1]]``, said before it in the passage."""

    start: int
    end: int
    features: tuple[float, ...]
    named: tuple[int, int] | None = None

    def answer(self, text: str) -> str:
        """What the span says, as the passage ``text`` names it."""
        start, end = self.named or (self.start, self.end)
        return text[start:end]


# The words a question asks with, longer ones first: the answer stands where they would.
_ASKING = re.compile(r"\b(?:how (?:many|much|long|old)|who|whom|whose|what|which|where|when|why|how)\b", re.I)


def asking_word(question: str) -> str:
    """The question's asking word ("how many" in "How many people came?"); "what" when it has none."""
    match = _ASKING.search(question)
    return match.group().lower() if match else "what"


def filled(question: str, text: str, start: int, end: int, chosen: "list[Span]") -> list[str]:
    """The sentence ``text[start:end]`` with each span replaced by the question's asking word."""
    word = asking_word(question)
    return [f"{text[start : span.start]}{word}{text[span.end : end]}" for span in chosen]


@dataclass(frozen=True)
class Reading:
    """What reading spans in place takes: the question's embedding, a sentence encoder
    (texts → normalised vectors, as the index's model gives them) and a parser of
    sentences (rag.parsing; None: spans are read without their grammar)."""

    question_vector: np.ndarray
    encode: Callable[[list[str]], np.ndarray]
    parse: "Callable[[str], Parse] | None" = None


def ranked(
    model: "ShortModel", question: str, text: str, start: int, end: int, found: "list[Span]", reading: Reading | None
) -> "list[tuple[float, Span]]":
    """The ``FILL_TOP`` best spans of the sentence ``text[start:end]`` with their final
    scores, best first: ranked by their features, then again with their fill gains
    (without ``reading`` a gain of 0: the feature ranking alone)."""
    scored = sorted(((model.score(span.features), span) for span in found), key=lambda pair: -pair[0])[:FILL_TOP]
    gains = np.zeros(len(scored))
    if scored and reading is not None and model.fill_weights[1]:
        vectors = reading.encode([text[start:end], *filled(question, text, start, end, [s for _, s in scored])])
        gains = fill_gains(reading.question_vector, vectors[0], vectors[1:])
    return sorted(((model.rescore(score, float(gain)), span) for (score, span), gain in zip(scored, gains)), key=lambda pair: -pair[0])


def fill_gains(question_vector: np.ndarray, sentence_vector: np.ndarray, filled_vectors: np.ndarray) -> np.ndarray:
    """How much closer to the question each filled sentence is than the sentence itself
    (cosines of normalised embeddings): the span that the question's asking word can
    stand for without changing what the sentence says, near the question, is its answer.

    In tenths of a cosine: gains are mostly within ±0.1, and the fit's L2 penalty
    should weigh them like the span features, which lie within 0-1."""
    gains = np.asarray(filled_vectors, dtype="float64") @ question_vector - float(sentence_vector @ question_vector)
    return gains * 10


def _words(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start() + start, m.end() + start, m.group()) for m in _WORD.finditer(text[start:end])]


def _wh_neighbours(question: str) -> list[str]:
    """The stems of the two content words after the question word ("what [working fluid]
    is used", "who [ruled] …"): in the sentence, the answer tends to stand beside them."""
    lowered = question.lower()
    match = re.search(r"\b(?:what|which|who|whom|whose|where|when|how(?: many| much)?)\b", lowered)
    if match is None:
        return []
    return tokenize([lowered[match.end() :]])[0][:2]


def _clauses(words: list[tuple[int, int, str]], text: str) -> list[tuple[int, int]]:
    """(first, last + 1) word indices of the stretches between punctuation marks."""
    clauses, first = [], 0
    for i in range(1, len(words)):
        if re.search(r"[^\w\s’'-]", text[words[i - 1][1] : words[i][0]]):
            clauses.append((first, i))
            first = i
    clauses.append((first, len(words)))
    return clauses


def spans(
    analysis: QuestionAnalysis,
    text: str,
    start: int,
    end: int,
    entities: tuple[Entity, ...],
    parse: "Parse | None" = None,
    passage_entities: tuple[Entity, ...] = (),
) -> list[Span]:
    """The candidate short answers in ``text[start:end]`` (a sentence), with their
    features; ``parse`` is that sentence's (offsets within it), or None;
    ``passage_entities``, every entity of ``text``, name who its "he" and "she" are."""
    words = _words(text, start, end)
    if not words:
        return []
    stems = tokenize([w for _, _, w in words])
    question_stems = set(analysis.keywords) - _NAME_PARTICLES
    # A title counts as the verb of what its holder does: "the leader of [X]" answers
    # "which group did he lead?" as "he led [X]" would.
    meant = [with_agents(s) for s in stems]
    question_words = {fold(w) for w in re.findall(r"[\w’'-]+", analysis.text)}
    shared = [i for i, m in enumerate(meant) if m & question_stems]
    held_stem = {stem: bool(question_stems & with_agents([stem])) for word in stems for stem in word}
    inside = [x for x in entities if start <= x.start and x.end <= end]

    places: set[tuple[int, int]] = set()
    for first, last in _clauses(words, text):
        for i in range(first, last):
            if fold(words[i][2]) in _BREAKS:
                continue
            for j in range(i + 1, min(last, i + MAX_WORDS) + 1):
                word = fold(words[j - 1][2])
                if word in _BREAKS and word not in _JOINERS:
                    break
                if word not in _BREAKS:
                    places.add((i, j))
    for entity in inside:  # a whole entity is a candidate, however long
        covered = [i for i, (s, e, _) in enumerate(words) if entity.start <= s and e <= entity.end]
        if covered:
            places.add((covered[0], covered[-1] + 1))

    # The question's own names are what it asks about, never its answer ("Smith" in
    # "who hired Smith?"): no span may hold one of its entities.
    keywords = set(analysis.keywords)  # a name's particles are words of the name: "Ibn Saud" holds "ibn"
    named = [x for x in inside if named_in_question(text[x.start : x.end], analysis, keywords)]
    places = {(i, j) for i, j in places if not any(x.start < words[j - 1][1] and words[i][0] < x.end for x in named)}
    # "he" and "she" stand for a person named before them; read as that person, they
    # answer "who …?" where the sentence that says the deed names no one.
    # So does "the diplomat", "the minister": news names a person once, then by the role.
    standing: dict[int, tuple[int, Entity]] = {}
    for i, (s, _, word) in enumerate(words):
        if fold(word) in _PERSONAL:
            person, j = antecedent(text, s, passage_entities), i + 1
        elif _by_role(words, i):
            person, j = antecedent(text, s, passage_entities, own_sentence=False), i + 2
        else:
            continue
        if person is not None and not named_in_question(text[person.start : person.end], analysis, keywords):
            standing[i] = (j, person)
            places.add((i, j))
    typed = bool(analysis.expected)
    weight = max(1, len(question_stems))
    near_wh = set(_wh_neighbours(analysis.text))
    wh_shared = [k for k in shared if meant[k] & near_wh]
    # Distances count content words only: "Smith was the one who signed" puts the name
    # next to the verb, as "Smith signed" would.
    at, seen = [], 0
    for _, _, word in words:
        at.append(seen)
        seen += fold(word) not in _BREAKS
    numbers_asked = bool(analysis.expected & _NUMBERS)
    counted = analysis.counted  # "how many [fighters]": a span within four words before it counts them
    grammar = _Grammar(parse, text[start:end], question_stems)
    found = []
    for i, j in sorted(places):
        s, e = words[i][0], words[j - 1][1]
        content = [stem for k in range(i, j) for stem in stems[k]]
        held = [held_stem[stem] for stem in content]
        person = standing[i][1] if i in standing and standing[i][0] == j else None
        exact = [person] if person else [x for x in inside if x.start == s and x.end == e]
        touching = [person] if person else [x for x in inside if x.start < e and s < x.end]
        asked = [x for x in touching if x.label in analysis.expected]
        distances = [min(abs(at[k] - at[i]), abs(at[k] - at[j - 1])) for k in shared if not i <= k < j]
        near = 1.0 / (1.0 + min(distances)) if distances else 0.0
        spread = sum(distances) / len(distances) / 10 if distances else 1.0
        has_digit = any(ch.isdigit() for ch in text[s:e])
        length = j - i
        window = {c for k in range(max(0, i - 3), min(len(words), j + 3)) if not i <= k < j for c in meant[k]}
        features = (
            float(bool(exact)),
            float(any(x.label in analysis.expected for x in exact)),
            float(bool(asked) and not any(x.label in analysis.expected for x in exact)),
            float(any(x.start < s < x.end or x.start < e < x.end for x in touching)),
            float(not typed and bool(exact)),
            float(typed and not asked),
            sum(held) / len(content) if content else 1.0,
            near,
            spread,
            float(i > 0 and fold(words[i - 1][2]) in question_words),
            float(j < len(words) and fold(words[j][2]) in question_words),
            float(length == 1),
            float(length == 2),
            float(length >= 4),
            float(has_digit),
            float(has_digit and numbers_asked),
            float(i > 0 and words[i][2][:1].isupper()),
            float(any(_VERB_LIKE.match(words[k][2]) for k in range(i, j))),
            float(i > 0 and fold(words[i - 1][2]) in _NAMING),
            float(j < len(words) and fold(words[j][2]) in _COPULAS),
            float(any(k < i and i - k <= 2 or k >= j and k - j < 2 for k in wh_shared)),
            len(window & question_stems) / weight,
            float(any(held)),
            float(i > 0 and bool(re.search(r"[(,]\s*$", text[words[i - 1][1] : s]))),
            float(_passive_agent(words, stems, i, question_stems)),
            float(person is not None),
            float(counted is not None and any(counted in stems[k] for k in range(i, min(len(words), j + 4)))),
            *grammar.features(s - start, e - start),
        )
        found.append(Span(s, e, features, (person.start, person.end) if person else None))
    return found


class _Grammar:
    """Where spans stand in a sentence's parse, relative to the question's words."""

    WIDTH = 5 + len(_DEPENDENCIES)

    def __init__(self, parse: "Parse | None", sentence: str, question_stems: set[str]) -> None:
        self.tokens = parse or ()
        stems = [with_agents(s) for s in tokenize([sentence[t.start : t.end] for t in self.tokens])] if self.tokens else []
        self.asked = [bool(s & question_stems) for s in stems]
        self.paths = [self._path(i) for i in range(len(self.tokens))]

    def _path(self, i: int) -> list[int]:
        path, seen = [i], {i}
        while self.tokens[path[-1]].head != path[-1] and self.tokens[path[-1]].head not in seen:
            path.append(self.tokens[path[-1]].head)
            seen.add(path[-1])
        return path

    def _clause(self, i: int) -> int:
        """The verb a word's clause hangs on: the nearest verb above it (itself, for a
        verb), else the root: "X has taken Palmyra, while Y seized Z" puts X with Palmyra."""
        return next((node for node in self.paths[i] if self.tokens[node].pos in ("VERB", "AUX")), self.paths[i][-1])

    def _distance(self, a: int, b: int) -> int:
        up = {node: k for k, node in enumerate(self.paths[b])}
        return next((k + up[node] for k, node in enumerate(self.paths[a]) if node in up), _NO_PATH)

    def features(self, start: int, end: int) -> tuple[float, ...]:
        # Tokens overlapping the span: the parser's "U.S." holds the span's "U.S".
        inside = [i for i, t in enumerate(self.tokens) if t.start < end and start < t.end]
        if not self.tokens:
            return (0.0,) * self.WIDTH  # no parse: the grammar says nothing
        if not inside:
            return (0.0, _NO_PATH / 10) + (0.0,) * (self.WIDTH - 2)  # as far as can be
        head = min(inside, key=lambda i: len(self.paths[i]))
        shared = [i for i, asked in enumerate(self.asked) if asked and i not in inside]
        distances = [self._distance(head, i) for i in shared]
        token = self.tokens[head]
        governor = self.tokens[token.head] if token.head != head else None
        verb = None
        if governor is not None and governor.pos in ("VERB", "AUX"):
            verb = token.head
        elif governor is not None and token.dep == "pobj" and self.tokens[governor.head].pos in ("VERB", "AUX"):
            verb = governor.head
        return (
            1.0 / (1.0 + min(distances)) if distances else 0.0,
            min(sum(distances) / len(distances), _NO_PATH) / 10 if distances else _NO_PATH / 10,
            float(governor is not None and token.head not in inside and self.asked[token.head]),
            float(verb is not None and verb not in inside and token.dep in _OBJECTS and self.asked[verb]),
            float(any(self._clause(i) == self._clause(head) for i in shared)),
            *(float(token.dep == dep) for dep in _DEPENDENCIES),
        )


_PERSONAL = frozenset({"he", "she"})


# People named by their part in an event ("Police arrested X. The victim was …") are
# mostly others than the one just named: only a role someone holds refers back.
_PARTS_IN_EVENTS = frozenset(
    "victim victims suspect suspects witness witnesses judge judges soldier soldiers pilot pilots doctor doctors "
    "physician surgeon teacher coach athlete person man woman".split()
)


def _by_role(words: list[tuple[int, int, str]], i: int) -> bool:
    """Whether words i and i+1 are "the" and a noun of a role a person holds ("the
    diplomat wrote"), not a title of someone else's ("the minister of …", "the
    president's") nor a part in an event ("the victim")."""
    if i + 1 >= len(words) or fold(words[i][2]) != "the" or noun_labels(words[i + 1][2]) != frozenset({"PERSON"}):
        return False
    if fold(words[i + 1][2]) in _PARTS_IN_EVENTS:
        return False
    after = words[i + 2][2].lower() if i + 2 < len(words) else ""
    return not re.search(r"[’']s?$", words[i + 1][2]) and after not in ("of", "s")


def _passive_agent(words, stems, i: int, question_stems: set[str]) -> bool:
    """The span follows "by" (and an article) right after a word of the question: in
    "Y was designed by X" and "Y, backed by X", X is who did what the question asks."""
    k = i - 1
    if k >= 0 and fold(words[k][2]) in ("the", "a", "an"):
        k -= 1
    return k >= 1 and fold(words[k][2]) == "by" and any(stem in question_stems for stem in stems[k - 1])
