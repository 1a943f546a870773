"""The Answer: quotes joined with their [n] markers, citations, and the short answer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.answering.describe import described_name, description
from rag.answering.question import AT_A_PLACE, PLACE_PARTS, PLACES, QuestionAnalysis, noun_labels
from rag.answering.select import Quote, writers_items
from rag.dates import human_date, mentioned_dates, relative_day
from rag.entities import NAME_LABELS, Entity, nationality_adjective
from rag.lexical import fold
from rag.sentences import sentence_spans
from rag.types import Answer, Citation, Hit

if TYPE_CHECKING:
    from rag.answering.model import ShortModel
    from rag.answering.spans import Reading

NOT_FOUND = "The indexed documents don't answer this."

# Which entity answers best when several of the asked types stand in the quote:
# for "who", a person before an organisation before a nationality.
_LABEL_PREFERENCE = (
    "PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL",
    "EVENT", "PRODUCT", "LAW", "LANGUAGE", "WORK_OF_ART", "NAME",
)


def abstain(analysis: QuestionAnalysis, question: str, hits: list[Hit], confidence: float = 0.0) -> Answer:
    return Answer(
        question=question, text=NOT_FOUND, found=False, hits=tuple(hits),
        question_used=analysis.text, confidence=round(confidence, 4),
    )


def compose(
    analysis: QuestionAnalysis,
    question: str,
    quotes: list[Quote],
    hits: list[Hit],
    confidence: float,
    short: "str | None | object" = ...,
) -> Answer:
    """The answer text made of ``quotes``, each followed by its marker, and their citations.

    ``short`` is the short answer when the caller has chosen it (None: there is none);
    left out, it is taken from the quotes with the shipped model.
    """
    citations, parts = [], []
    dated = analysis.intent in ("when", "day", "overview")
    for marker, quote in enumerate(quotes, start=1):
        hit = quote.hit
        citations.append(
            Citation(marker=marker, hit=hit, quote=quote.text, start=hit.start + quote.start, end=hit.start + quote.end)
        )
        # "When" is answered by the day of the entry that reports it; an overview says
        # which day each quote comes from, so a reader can tell the news apart.
        prefix = f"On {human_date(hit.date)}: " if dated and hit.date else ""
        parts.append(f"{prefix}{quote.text} [{marker}]")
    return Answer(
        question=question,
        text=" ".join(parts),
        found=True,
        citations=tuple(citations),
        hits=tuple(hits),
        short=_shipped_short(analysis, quotes, confidence) if short is ... else short,
        question_used=analysis.text,
        confidence=round(confidence, 4),
    )


def short_answer(
    analysis: QuestionAnalysis,
    quotes: list[Quote],
    confidence: float = 1.0,
    model: "ShortModel | None" = None,
    reading: "Reading | None" = None,
) -> str | None:
    """The words of the first quote that answer; None when none is likely enough.

    A list answers with its items (the entities of the asked type, from every quote).
    Else ``model``, the fitted short-answer model (rag/answering/spans.py; None: none),
    picks the best span of the quote's sentence, reading the best few in place with
    the embedding model when given a ``reading``, and says how likely it holds the
    answer; it is shown from the model's threshold up. A "when" question whose span is no date
    of its own is answered with the day of the entry that reports it, when it has one.
    """
    if quotes and reading is not None and reading.parse is not None and (name := described_name(analysis)):
        return _described(quotes, name, reading.parse)
    if not quotes or analysis.intent in ("overview", "day") or analysis.asks_statement or analysis.asks_action:
        return None
    if analysis.intent == "list":
        items: dict[str, str] = {}
        for quote in quotes:
            # Where the writer lists what was asked under its noun ("the cities of …"),
            # that list is the sentence's answer; other names in it are not items.
            for entity in writers_items(quote.candidate, analysis) or _ranked_answers(analysis, quote):
                if _modifies_next(analysis, quote.hit.text, entity, quote.candidate.entities) or _placed(
                    analysis, quote.hit.text, entity, quote.candidate.entities
                ):
                    continue
                text = _clean(quote.hit.text[entity.start : entity.end])
                items.setdefault(re.sub(r"[\s-]+", "", fold(text)), text)  # "Al-Qusayr", "Al Qusayr": one place
        return ", ".join(list(items.values())[:6]) or None
    best = quotes[0]
    found = _best_span(analysis, best, confidence, model, reading) if model is not None else None
    if analysis.intent == "when" and best.hit.date and not (found and _absolute_date(found)):
        # "on Sunday" or "yesterday" mean nothing without the day they were written on:
        # read from the entry's date, the one relative day of the span names the day; a
        # span that is a time naming no day ("last week") is given as written, with the
        # day it was reported; a span that is no time at all leaves it to the sentence's
        # one relative day, else the entry's date.
        if found and _TIME_WORD.search(found):
            # The span read in its sentence: the words before it say whether it is past.
            sentence, at = best.hit.text[best.start : best.end], best.hit.text[best.start : best.end].find(found)
            start = at
            if at >= 0 and _PART_OF_DAY.match(found):
                # "on Monday [morning]": a part of the day belongs to the day named before it.
                before = re.search(r"\w+\s+$", sentence[:at])
                start = before.start() if before else at
            day = relative_day(sentence, best.hit.date, near=(start, at + len(found)) if at >= 0 else None)
            if day is None:
                # "last week", "in recent days": no day to state, only when it was reported.
                return f"{found} (reported {human_date(best.hit.date)})"
        else:
            day = relative_day(best.hit.text[best.start : best.end], best.hit.date)
        return human_date(day or best.hit.date)
    return found


_TIME_WORD = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight|tomorrow|"
    r"(?:week|weekend|month|year|day|night|hour|decade)s?|morning|afternoon|evening|overnight|dawn|dusk|midnight|"
    r"noon|ago|earlier|later|recently|lately)\b",
    re.I,
)


_PART_OF_DAY = re.compile(r"(?:morning|afternoon|evening|night|overnight)\b", re.I)


def _absolute_date(text: str) -> bool:
    """A date that stands on its own: a day and month, or a year ("8 December", "2012")."""
    return bool(mentioned_dates(text) or re.search(r"\b\d{4}\b", text))


def _shipped_short(analysis: QuestionAnalysis, quotes: list[Quote], confidence: float) -> str | None:
    from rag.answering.model import load_model

    return short_answer(analysis, quotes, confidence, load_model().short)


def _described(quotes: list[Quote], name: str, parse) -> str | None:
    """What the first quote that describes ``name`` calls it (rag/answering/describe.py)."""
    for quote in quotes:
        candidate = quote.candidate
        sentence = candidate.hit.text[candidate.start : candidate.end]
        names = tuple(
            (e.start - candidate.start, e.end - candidate.start) for e in candidate.entities
            if e.label in NAME_LABELS and candidate.start <= e.start and e.end <= candidate.end
        )
        found = description(sentence, name, parse(sentence), names)
        if found is not None:
            return _clean(sentence[found[0] : found[1]]) or None
    return None


def _best_span(
    analysis: QuestionAnalysis, quote: Quote, confidence: float, model: "ShortModel", reading: "Reading | None"
) -> str | None:
    from rag.answering.spans import ranked, spans

    candidate = quote.candidate
    text = candidate.hit.text
    sentences = [(candidate.start, candidate.end, candidate.entities)]
    if analysis.expected and not candidate.answers:
        # The best sentence holds nothing of the asked type, but the quote may: the
        # sentence joined to it (select: a neighbour scoring nearly as well, or one it
        # leans on) is shown as part of the answer, and so is what it names. ("…, the
        # office said. [More than 47,000] applications are pending.")
        sentences += [
            (s, e, tuple(x for x in candidate.passage_entities if s <= x.start and x.end <= e))
            for s, e in sentence_spans(text)
            if quote.start <= s and e <= quote.end and (s, e) != (candidate.start, candidate.end)
        ]
    scored = []
    for start, end, entities in sentences:
        parse = reading.parse(text[start:end]) if reading is not None and reading.parse is not None else None
        found = spans(analysis, text, start, end, entities, parse, candidate.passage_entities)
        if analysis.expected == PLACES:
            found = [span for span in found if not _owner(text, span, candidate.passage_entities or entities)]
        scored += ranked(model, analysis.text, text, start, end, found, reading)
    scored.sort(key=lambda pair: -pair[0])
    if not scored:
        return None
    best, span = scored[0]
    entities = candidate.passage_entities or candidate.entities  # the span may lie in a joined sentence
    runner_up = scored[1][0] if len(scored) > 1 else None
    if model.probability(best, runner_up, confidence) < model.threshold:
        return None
    if _modifies_next(analysis, text, Entity(span.start, span.end, "NORP"), entities):
        return None
    if _placed(analysis, text, span, entities) or _name_for_why(analysis, span, entities):
        return None
    if _counts_another(analysis, text, span):
        return None
    if span.named is not None:  # "he" or "she": the person, as named before
        return _clean(span.answer(text)) or None
    span = _asked_part(analysis, text, span, entities)
    if _modifies_next(analysis, text, Entity(span.start, span.end, "NORP"), entities):
        return None  # the asked part of a longer span may be an adjective too: "the [French] embassy"
    return _clean(candidate.hit.text[span.start : span.end]) or None


# Nouns of a part of a place: "Moscow's western suburbs" is a place, "Russia's envoy" not.
_PARTS_OF_PLACES = PLACE_PARTS | frozenset(
    """north south east west northern southern eastern western coast border borders capital streets street
    region regions province""".split()
)


def _owner(text: str, span, entities) -> bool:
    """Whether the span holds or is a name in the possessive that owns what follows it
    ("[Russia’s envoy] in Vienna": the envoy is in Vienna), which is no answer to
    "where …?". An apostrophe inside a name is no possessive ("St Peter's Square",
    "Martyrs' Square"), and a part of a place is a place ("Moscow's western suburbs")."""
    for mark in re.finditer(r"[’']s?(?=\s|$|[,.;:!?)])", text[span.start : span.end + 2]):
        at = span.start + mark.start()
        if not any(e.end == at for e in entities):
            continue  # not right after a name: inside one, or no possessive of a name
        after = re.findall(r"[a-z]+", text[at : at + 40].lower())[:3]
        if not any(word in _PARTS_OF_PLACES or noun_labels(word) and noun_labels(word) & PLACES for word in after[1:]):
            return True
    return False


def _name_for_why(analysis: QuestionAnalysis, span, entities) -> bool:
    """Whether the span is a name offered for "why …?": a reason is a clause ("because
    of low water"), which no name of a person, group or place is."""
    return re.match(r"\s*(?:why|how come)\b", analysis.text, re.I) is not None and any(
        (e.start, e.end) == (span.start, span.end) and e.label in NAME_LABELS for e in entities
    )


def _asked_part(analysis: QuestionAnalysis, text: str, span, entities):
    """The one entity of an asked type inside a span that runs on past it, into a name
    of another type ("In [1856 the Treaty of Paris]" for "when …?") or, around a name,
    into common words ("chief [executive officer Nancy Davolio said]" for "who …?");
    else the span. A short answer is the thing asked for; a title in capitals stays
    ("President Obama"), and so do words a number or date needs ("some 30km")."""
    inside = [e for e in entities if span.start <= e.start and e.end <= span.end]
    asked = [e for e in inside if e.label in analysis.expected]
    if len(asked) != 1:
        return span
    (name,) = asked
    around = text[span.start : name.start] + " " + text[name.end : span.end]
    if any(e.label not in analysis.expected for e in inside) or (
        name.label in NAME_LABELS and re.search(r"\b[a-z]", around)
    ):
        return name
    return span


def _modifies_next(analysis: QuestionAnalysis, text: str, span: Entity, entities) -> bool:
    """Whether the span is a nationality adjective ("the [Syrian] president") that is
    no answer to this question: it answers one asking for a nationality ("what
    nationality was …?": "the [German] physicist"), never one asking who or where."""
    return analysis.expected != {"NORP"} and any(
        (e.start, e.end) == (span.start, span.end) and nationality_adjective(text, e) for e in entities
    )


def _counts_another(analysis: QuestionAnalysis, text: str, span) -> bool:
    """Whether the span is a number of something else the question names: for "how
    many people died in the strikes?", "[three] strikes" counts the strikes, and says
    nothing of how many died. What a number counts is the first plural noun after it,
    across its adjectives ("3 million [displaced] Syrians") but not across a verb ("12
    [killed] in strikes" may count the people)."""
    from rag.answering.question import counted_phrase
    from rag.lexical import tokenize

    if analysis.counted is None or not any(ch.isdigit() for ch in text[span.start : span.end]) and not _NUMBER_WORD.search(
        text[span.start : span.end]
    ):
        return False
    # The question's other words: those of what it counts ("Syrian refugees") don't count.
    others = set(analysis.keywords) - counted_phrase(analysis)
    for word in re.findall(r"[\w’'-]+|[^\w\s]", text[span.end : span.end + 60])[:4]:
        if not word[0].isalnum() or word[0].isdigit() or re.search(r"(?:ed|ing)$", word):
            return False  # a verb, a number or punctuation: the noun phrase has ended
        stems = set(tokenize([word])[0])
        if analysis.counted in stems:
            return False
        if _plural_noun(word):
            return bool(stems & others)
    return False


def _plural_noun(word: str) -> bool:
    return word.islower() and word.endswith("s") and not word.endswith("ss")


_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|"
    r"thousands?|millions?|dozens?|several|many)\b",
    re.I,
)


def _placed(analysis: QuestionAnalysis, text: str, span: Entity, entities) -> bool:
    """Whether the span holds a place named as where something is or happens ("the
    prison [near Damascus]"), for a question asking who: a country or city can act
    ("Russia granted asylum"), but one after a preposition of place only locates it. A
    company after "at" ("worked at Google") is no place, and answers."""
    return "PERSON" in analysis.expected and any(
        e.label in PLACES and e.start < span.end and span.start < e.end and AT_A_PLACE.search(text[max(0, e.start - 40) : e.start])
        for e in entities
    )


def _ranked_answers(analysis: QuestionAnalysis, quote: Quote):
    """The quote's answer entities, best first: preferred type, then nearest the question's words."""
    answers = [e for e in quote.candidate.answers if quote.start <= e.start and e.end <= quote.end]
    if not answers:
        return []
    text = fold(quote.hit.text)
    stems = [k for k in analysis.keywords if len(k) >= 3]
    anchors = [m.start() for m in re.finditer(r"\w+", text) if any(m.group().startswith(s) for s in stems)]

    def distance(entity) -> int:
        return min((abs(entity.start - a) for a in anchors), default=0)

    def preference(label: str) -> int:
        return _LABEL_PREFERENCE.index(label) if label in _LABEL_PREFERENCE else len(_LABEL_PREFERENCE)

    return sorted(answers, key=lambda e: (preference(e.label), distance(e), e.start))


def _clean(text: str) -> str:
    """An entity as a short answer: no leading article, no trailing possessive or punctuation,
    and no word left dangling at its end ("4pm and", "the Bank of"): a tagger's entity can
    run one word past the name, and an answer never ends on a conjunction or preposition."""
    text = re.sub(r"^(?:the|The)\s+", "", text.strip())
    text = re.sub(r"[’']s?$", "", text).strip(" ,.;:")
    # Lower case only: "Plan A", "Vitamin A" end on a capital.
    return re.sub(r"(?:\s+(?:and|or|but|of|the|a|an|for|to|at|in|on|by|with|from))+$", "", text)
