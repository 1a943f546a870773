"""Results as plain JSON-able dicts: one shape shared by `rag ... --json` and the app's API.

Keys are the dataclasses' field names, with two renames that make the JSON read on its
own: ``Answer.hits`` is ``passages``, and a citation names its passage by rank
(``passage``) instead of nesting the whole hit. No key is called ``path``:
gradio_client treats any dict holding one as a file to download. The shapes are
TypedDicts, so the app's API page lists every field.
"""

from __future__ import annotations

import dataclasses
from typing import TypedDict

from rag.types import Answer, Citation, DocumentFacts, Hit, SyncReport


class HitDict(TypedDict):
    rank: int
    score: float
    chunk_id: int
    source: str
    page: int | None
    date: str | None
    start: int
    end: int
    text: str


class CitationDict(TypedDict):
    marker: int
    quote: str
    source: str
    page: int | None
    date: str | None
    start: int
    end: int
    passage: int  # the rank of its passage in ``passages``


class AnswerDict(TypedDict):
    question: str
    question_used: str
    text: str
    short: str | None
    found: bool
    strength: str  # "strong", "partial" or "none"
    confidence: float
    mode: str  # "extract" (quoted) or "generate" (written by a language model, then checked)
    unsupported: list[str]  # generated sentences removed because their sources don't say them
    note: str  # one line on how the answer was made, when not the plain case ("" otherwise)
    citations: list[CitationDict]
    passages: list[HitDict]


class DocumentDict(TypedDict):
    source: str
    kind: str
    pages: int
    passages: int
    date_from: str | None
    date_to: str | None
    added: str
    folder: str


class SyncReportDict(TypedDict):
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[str]
    chunks_added: int
    chunks_removed: int
    chunks_embedded: int
    warnings: list[str]


def hit_to_dict(hit: Hit) -> HitDict:
    """``{rank, score, chunk_id, source, page, date, start, end, text}``."""
    return {
        "rank": hit.rank,
        "score": hit.score,
        "chunk_id": hit.chunk_id,
        "source": hit.source,
        "page": hit.page,
        "date": hit.date,
        "start": hit.start,
        "end": hit.end,
        "text": hit.text,
    }


def citation_to_dict(citation: Citation) -> CitationDict:
    """``{marker, quote, source, page, date, start, end, passage}``; ``passage`` is the hit's rank."""
    hit = citation.hit
    return {
        "marker": citation.marker,
        "quote": citation.quote,
        "source": hit.source,
        "page": hit.page,
        "date": hit.date,
        "start": citation.start,
        "end": citation.end,
        "passage": hit.rank,
    }


def answer_to_dict(answer: Answer) -> AnswerDict:
    """The answer with its citations and the passages it was drawn from.

    >>> answer_to_dict(answer("who granted Assad asylum?"))["short"]   # doctest: +SKIP
    """
    return {
        "question": answer.question,
        "question_used": answer.question_used or answer.question,
        "text": answer.text,
        "short": answer.short,
        "found": answer.found,
        "strength": answer.strength,
        "confidence": answer.confidence,
        "mode": answer.mode,
        "unsupported": list(answer.unsupported),
        "note": answer.note,
        "citations": [citation_to_dict(c) for c in answer.citations],
        "passages": [hit_to_dict(h) for h in answer.hits],
    }


def document_to_dict(document: DocumentFacts) -> DocumentDict:
    """``{source, kind, pages, passages, date_from, date_to, added, folder}``."""
    return DocumentDict(**dataclasses.asdict(document))


def report_to_dict(report: SyncReport) -> SyncReportDict:
    """``{added, updated, removed, unchanged, skipped, chunks_added, chunks_removed, chunks_embedded, warnings}``."""
    fields = dataclasses.asdict(report)
    return SyncReportDict(**{key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()})
