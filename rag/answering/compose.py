"""The Answer: quotes joined with their [n] markers, citations, and the short answer."""

from __future__ import annotations

import re

from rag.answering.question import QuestionAnalysis
from rag.answering.select import Quote
from rag.dates import human_date, mentioned_dates
from rag.lexical import fold
from rag.types import Answer, Citation, Hit

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
    short: str | None = None,
) -> Answer:
    """The answer text made of ``quotes``, each followed by its marker, and their citations."""
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
        short=short if short is not None else short_answer(analysis, quotes),
        question_used=analysis.text,
        confidence=round(confidence, 4),
    )


def short_answer(analysis: QuestionAnalysis, quotes: list[Quote]) -> str | None:
    """The name, number, place or date that answers, from the quotes; None when there is none.

    Taken from the first quote (a list: from every quote), of the asked type, not
    already in the question, and nearest to the words it shares with the question.
    """
    if not quotes or analysis.intent in ("overview", "day"):
        return None
    if analysis.intent == "list":
        items: dict[str, str] = {}
        for quote in quotes:
            for entity in _ranked_answers(analysis, quote):
                text = _clean(quote.hit.text[entity.start : entity.end])
                items.setdefault(fold(text), text)
        return ", ".join(list(items.values())[:6]) or None
    best = quotes[0]
    answers = _ranked_answers(analysis, best)
    if analysis.intent == "when":
        # A quote that names a day answers with it; else the day of the entry reporting it.
        for entity in answers:
            text = best.hit.text[entity.start : entity.end]
            if mentioned_dates(text) or re.search(r"\b\d{4}\b", text):
                return _clean(text)
        if best.hit.date:
            return human_date(best.hit.date)
    return _clean(best.hit.text[answers[0].start : answers[0].end]) if answers else None


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
    """An entity as a short answer: no leading article, no trailing possessive or punctuation."""
    text = re.sub(r"^(?:the|The)\s+", "", text.strip())
    return re.sub(r"[’']s?$", "", text).strip(" ,.;:")
