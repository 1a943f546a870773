"""Plain, frozen data types that flow one way: Document → Chunk → Hit → Answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Document:
    """The extracted text of one file, or of one page of a PDF."""

    source: str  # path relative to the corpus root, with forward slashes
    text: str
    page: int | None = None  # 1-based for PDFs, None otherwise


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: ``document.text[start:end] == text``."""

    chunk_id: int
    source: str
    text: str
    start: int
    end: int
    page: int | None = None
    date: str | None = None  # ISO YYYY-MM-DD, only when the document states it


@dataclass(frozen=True)
class Hit:
    """A chunk returned by ``search()``, with its 1-based rank and fused score."""

    rank: int
    score: float
    chunk_id: int
    source: str
    text: str
    start: int
    end: int
    page: int | None = None
    date: str | None = None


@dataclass(frozen=True)
class Citation:
    """One quoted sentence: ``document.text[start:end] == quote``."""

    marker: int  # the n in [n], 1-based position in Answer.citations
    hit: Hit
    quote: str
    start: int
    end: int


Strength = Literal["strong", "partial", "none"]
# How the text was made: sentences quoted from the passages, or written by a language model
# and then checked, sentence by sentence, against the passages it cites.
AnswerMode = Literal["extract", "generate"]


@dataclass(frozen=True)
class Answer:
    """An answer made only of quoted sentences, each followed by its [n] marker.

    ``short`` is the name, number, place or date that answers, taken from the first
    quote (None when there is no such span); ``question_used`` is the question as it
    was searched, after a follow-up was rewritten with the conversation's entities;
    ``confidence`` is the estimated probability (0–1) that the first quote answers.

    ``mode`` says what made ``text``: "extract" (quotes) or "generate" (a language
    model's sentences, each kept only where the passage it cites supports it; the
    citations then quote the supporting sentence). ``unsupported`` lists the generated
    sentences that were removed; ``note`` is one line on how the answer came to be when
    that is not the plain case ("the language model at … did not answer in 60 s; quoting instead").
    """

    question: str
    text: str
    found: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    short: str | None = None
    question_used: str = ""
    confidence: float = 0.0
    mode: AnswerMode = "extract"
    unsupported: tuple[str, ...] = ()
    note: str = ""

    @property
    def strength(self) -> Strength:
        """A reader's word for the confidence: "strong", "partial", or "none" (abstained)."""
        if not self.found:
            return "none"
        return "strong" if self.confidence >= STRONG_CONFIDENCE else "partial"


# An answer this likely to be right reads as a strong match; below it, as partial.
STRONG_CONFIDENCE = 0.7


@dataclass(frozen=True)
class SyncReport:
    """What one ``sync`` did to an index."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_embedded: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class IndexInfo:
    """Facts about an index, as ``rag info`` prints them."""

    path: str
    documents: int
    chunks: int
    model: str
    dimension: int
    size_bytes: int
    updated: str  # ISO timestamp of the last write
    sentence_vectors: int = 0  # passages whose sentences' vectors are stored (answers encode the others')


@dataclass(frozen=True)
class DocumentFacts:
    """One indexed document as ``Index.document_facts()`` lists it."""

    source: str  # path relative to the folder it was indexed from, as in Hit.source
    kind: str  # the file type, from its suffix: "txt", "md", "pdf"
    pages: int  # pages of a PDF; 1 for a text file
    passages: int
    date_from: str | None  # the earliest passage date (ISO), None when no passage is dated
    date_to: str | None  # the latest passage date
    added: str  # ISO timestamp of when this version of the file was indexed ("" if not recorded)
    folder: str  # the folder it was indexed from
