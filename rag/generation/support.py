"""Does a passage say what a generated sentence says? Measured, not asked of the model.

With what the project already has: the sentence's embedding similarity to its best
sentence in the passage (or to two adjacent ones, for a sentence that joins them),
the share of its content words the passage holds, and hard checks that every number,
date and name in the sentence stands in the passage (or is the passage's own date), and
that it does not deny what the passage states (or state what the passage denies).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from rag.dates import human_date, mentioned_dates
from rag.generation.settings import SUPPORT, SupportSettings
from rag.lexical import STOPWORDS_EN_PLUS, fold, tokenize
from rag.sentences import sentence_spans
from rag.types import Hit

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
# "one" is a pronoun as often as a number ("one of the"): only two and up are checked.
_CHECKED_NUMBER_WORDS = {w: v for w, v in _NUMBER_WORDS.items() if int(v) >= 2}
_SCALE = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(thousand|million|billion)\b", re.I)
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD = re.compile(r"[^\W_][\w’'-]*")
# Words that deny what follows them. "without", "denied", "untrue" are left out: they deny
# too loosely ("cannot be made without the decision" affirms the decision).
_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|cannot)\b|n[’']t\b", re.I)
# Words by which a passage says something is only possible, claimed or unconfirmed; a
# sentence that states it must carry one of them, or say who said it.
_HEDGE = re.compile(
    r"\b(?:could|may|might|possibl[ey]|probabl[ey]|reportedly|allegedly|purportedly|apparently|supposedly|"
    r"claim(?:s|ed)?|speculat\w*|unverified|unconfirmed|rumou?r\w*|suggest\w*|likely|seemingly)\b",
    re.I,
)
_ATTRIBUTION = re.compile(
    r"\b(?:say|says|said|according|report\w*|told|tell|stat(?:ed|es)|wrote|write|announc\w*|insist\w*)\b", re.I
)
_CLAUSE_END = re.compile(r"[.,;:!?“”\"()]")
_MONTHS_AND_DAYS = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)
# Capitalised words that are titles or kinds of institution rather than names: a sentence
# may say "Prime Minister" where its passage says "PM".
_TITLES = frozenset(
    """president presidents prime minister ministers ministry foreign secretary general spokesman spokeswoman
    spokesperson department army forces force office embassy state defense defence national security council
    leader chief government republic king queen prince senator ambassador envoy commander colonel lieutenant
    deputy vice official officials agency committee parliament court""".split()
)
_COMMON = frozenset(STOPWORDS_EN_PLUS) | frozenset(
    """according after also although as at before but during for from however in meanwhile on since so
    the then there these this those though thus to under until when where while yes""".split()
)


@dataclass(frozen=True)
class Support:
    """How well one passage supports one sentence; ``hit.text[start:end]`` is its best sentence."""

    hit: Hit
    start: int
    end: int
    similarity: float  # to the best sentence, or pair of adjacent sentences, of the passage
    coverage: float  # share of the sentence's content words in the passage
    missing: tuple[str, ...]  # the sentence's numbers, dates and names the passage lacks
    negation_differs: bool  # one of the two denies, the other doesn't
    overstates: bool = False  # states as fact what the passage only reports as claimed or possible

    @property
    def quote(self) -> str:
        return self.hit.text[self.start : self.end]

    def holds(self, settings: SupportSettings = SUPPORT) -> bool:
        return (
            not self.missing
            and not self.negation_differs
            and not self.overstates
            and self.similarity >= settings.min_similarity
            and self.coverage >= settings.min_coverage
        )

    def why_not(self, settings: SupportSettings = SUPPORT) -> str:
        """What fails, in words (empty when it holds)."""
        if self.missing:
            return f"the passage doesn't mention {', '.join(self.missing)}"
        if self.negation_differs:
            return "the passage says the opposite (one of them denies it)"
        if self.overstates:
            return "it states as fact what the passage only reports as claimed or possible"
        if self.similarity < settings.min_similarity:
            return f"no sentence of the passage says it (similarity {self.similarity:.2f})"
        if self.coverage < settings.min_coverage:
            return f"the passage holds only {self.coverage:.0%} of its words"
        return ""


def windows(hit: Hit) -> list[tuple[int, int]]:
    """The passage's sentences, then each pair of adjacent sentences (offsets in ``hit.text``)."""
    spans = sentence_spans(hit.text)
    return spans + [(a[0], b[1]) for a, b in zip(spans, spans[1:])]


def support(sentence: str, hit: Hit, vectors: dict[str, np.ndarray]) -> Support:
    """How ``hit`` supports ``sentence``; ``vectors`` holds the embedding of the sentence and of every window."""
    spans = windows(hit)
    singles = len(sentence_spans(hit.text))
    if not spans:
        return Support(hit, 0, 0, 0.0, 0.0, (), False)
    claim = vectors[sentence]
    similarities = np.array([float(vectors[hit.text[s:e]] @ claim) for s, e in spans])
    best_single = int(np.argmax(similarities[:singles]))
    start, end = spans[best_single]
    best = int(np.argmax(similarities))
    return Support(
        hit=hit,
        start=start,
        end=end,
        similarity=float(similarities[best]),
        coverage=coverage(sentence, hit),
        missing=tuple(missing_facts(sentence, hit)),
        negation_differs=negation_differs(sentence, hit.text[start:end]),
        overstates=overstates(sentence, hit.text[start:end]),
    )


def _denied(text: str) -> tuple[set[str], set[str]]:
    """(words a negation denies, every word) of ``text``, stemmed: the denied word is the first
    content word after "not", "no", "never", "n't" … within its clause ("no serious threat" → serious)."""
    denied = set()
    for cue in _NEGATION.finditer(text):
        rest = text[cue.end():]
        clause = rest[: m.start()] if (m := _CLAUSE_END.search(rest)) else rest
        words = [w for w in tokenize([clause])[0] if w not in _COMMON]
        if words:
            denied.add(words[0])
    return denied, set(tokenize([text])[0])


def negation_differs(sentence: str, quote: str) -> bool:
    """True when one of the two denies a word the other states: "took part" against "took no part"."""
    denied_sentence, sentence_words = _denied(sentence)
    denied_quote, quote_words = _denied(quote)
    return bool((denied_sentence & (quote_words - denied_quote)) or (denied_quote & (sentence_words - denied_sentence)))


def overstates(sentence: str, quote: str) -> bool:
    """True when ``quote`` hedges ("could become", "reportedly", "speculation that …") and the
    sentence neither hedges nor attributes ("… has been appointed")."""
    return bool(_HEDGE.search(quote)) and not _HEDGE.search(sentence) and not _ATTRIBUTION.search(sentence)


def _date_words(hit: Hit) -> str:
    """The passage's own date in words: '8 December 2024 Sunday'."""
    if not hit.date:
        return ""
    day = dt.date.fromisoformat(hit.date)
    return f"{human_date(hit.date)} {day.strftime('%A')}"


def coverage(sentence: str, hit: Hit) -> float:
    """The share of the sentence's content words (stemmed) that the passage, or its date, holds."""
    words = {w for w in tokenize([sentence])[0] if w not in _COMMON}
    if not words:
        return 0.0
    passage = set(tokenize([hit.text + " " + _date_words(hit)])[0])
    passage |= {_NUMBER_WORDS.get(w, w) for w in passage}
    return sum(w in passage or _NUMBER_WORDS.get(w) in passage for w in words) / len(words)


def _numbers(text: str) -> set[str]:
    """Numbers in ``text``, written as digits: '47,000' and '47 thousand' → '47000'; 'three' → '3'."""
    found = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    for value, scale in _SCALE.findall(text):
        number = float(value.replace(",", "")) * _SCALES[scale.lower()]
        found.add(f"{number:.0f}")
    for word in _WORD.findall(fold(text)):
        if word in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[word])
    return {n.lstrip("0") or "0" for n in found}


def _claimed_numbers(text: str) -> set[str]:
    """The numbers a sentence states (digits, and number words from two up), dates' days included."""
    found = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    for value, scale in _SCALE.findall(text):
        found.discard(value.replace(",", ""))
        found.add(f"{float(value.replace(',', '')) * _SCALES[scale.lower()]:.0f}")
    for word in _WORD.findall(fold(text)):
        if word in _CHECKED_NUMBER_WORDS:
            found.add(_CHECKED_NUMBER_WORDS[word])
    return {n.lstrip("0") or "0" for n in found}


def _names(sentence: str) -> list[str]:
    """Capitalised words (each part of a hyphenated one), possessives cut; not titles, months or days.

    The first word counts too, unless it is a common word ("The", "According"): a sentence
    whose subject its passage never names ("France and Austria …") is not supported by it.
    """
    names = []
    for match in _WORD.finditer(sentence):
        for word in re.split(r"-", re.sub(r"[’']s?$", "", match.group())):
            key = fold(word)
            if word[:1].isupper() and key not in _COMMON and key not in _TITLES and key not in _MONTHS_AND_DAYS:
                names.append(word)
    return names


def _name_in(name: str, words: set[str]) -> bool:
    """A name matches a passage word that shares its first letters: 'Russia' ~ 'Russian', 'Turkey' ~ 'Türkiye'."""
    key = fold(name)
    if len(key) <= 3:
        return key in words
    need = max(4, len(key) - 2)
    return any(w[:need] == key[:need] and len(w) >= need for w in words)


def missing_facts(sentence: str, hit: Hit) -> list[str]:
    """The sentence's numbers, dates and names that neither the passage nor its date states."""
    known = {hit.date} if hit.date else set()
    passage_numbers = _numbers(hit.text)
    if hit.date:
        day = dt.date.fromisoformat(hit.date)
        passage_numbers |= {str(day.year), str(day.day)}
    missing = [n for n in sorted(_claimed_numbers(sentence)) if n not in passage_numbers]
    passage_dates = {iso for iso, _, _ in mentioned_dates(hit.text, known)} | known
    missing += [sentence[s:e] for iso, s, e in mentioned_dates(sentence, known) if iso not in passage_dates]
    words = set(re.split(r"[^\w]+", fold(hit.text))) - {""}
    missing += [name for name in dict.fromkeys(_names(sentence)) if not _name_in(name, words)]
    days = {w for w in re.findall(r"[a-z]+", fold(sentence)) if w in _MONTHS_AND_DAYS and w.endswith("day")}
    own_day = {fold(dt.date.fromisoformat(hit.date).strftime("%A"))} if hit.date else set()
    missing += sorted(d.capitalize() for d in days if d not in words and d not in own_day)
    return missing
