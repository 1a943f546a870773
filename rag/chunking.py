"""Split documents into dated passages with exact character offsets.

Every document is read as paragraphs; a line that is only a date ("09 December
2024") is a header that dates every passage below it until the next one, and a
short line without closing punctuation (a heading, as PDF pages have them) is a
paragraph of its own. Two profiles, chosen per file and recorded in the manifest:

- ``news`` (a live blog or news page: several date headers or datelines): a passage
  is an *entry*, a paragraph plus the paragraphs that continue it (a quote
  attributed to someone the lead-in names, a "He said …" follow-up), and a dateline
  ("7 Dec, 2024 20:07 / …") starts an entry and dates it;
- ``plain`` (anything else): a passage is a paragraph; a tiny one (a heading) joins
  the paragraph after it.

Passages longer than ``max_chars`` are cut into windows of whole sentences that
overlap by one sentence.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from rag.dates import first_full_date, is_date_header, leading_date
from rag.sentences import sentence_spans
from rag.settings import CHUNKING, ChunkingSettings
from rag.types import Chunk, Document

CHUNKER_VERSION = 5  # bump whenever passages would come out differently

Profile = Literal["news", "plain"]

_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")
_OPENING_QUOTE = "“\"‘«"
# The end of a quoted sentence, where its attribution begins: “…,” he said.
_ATTRIBUTED_QUOTE_END = re.compile(r"[,.!?…][”\"’»]\s+")
_ANAPHORA = frozenset("he she they it the his her their its this these those".split())
_FOLLOW_UP_START = frozenset({"He", "She", "They", "His", "Her", "Their"})
# Openings that tie a paragraph to the one before it ("According to Spiegel, …").
_CONNECTIVES = re.compile(
    r"^(?:According to|At the same time|Meanwhile|However|Instead|Earlier|Later|"
    r"In addition|Also|Still|Nevertheless|Separately,? the)\b"
)
# "The <noun>" that points back: a reporting noun, or a noun the previous paragraph used.
_DEFINITE = re.compile(r"^The ([a-z][a-z-]+)")
_REPORTING_NOUNS = frozenset(
    """source sources official officials agency representative spokesperson spokesman
    spokeswoman paper newspaper outlet article report statement ministry diplomat
    minister senator envoy statement daily channel network broadcaster""".split()
)
_NAME = re.compile(r"\b[A-Z][\w’'-]{3,}")
_SPEECH_VERB = re.compile(
    r"[;\n]|\b(?:said|says|told|tells|wrote|writes|added|adds|stated|noted|announced|claimed|insisted|"
    r"explained|argued|declared|posted|tweeted|warned|stressed)\b"
)
_NAME_OR_ACRONYM = re.compile(r"\b[A-Z][\w’'-]{2,}")
# "… told the agency": a definite reporting medium points back to the one just named.
_BACK_REFERENCE = re.compile(r"\bthe (?:agency|paper|newspaper|outlet|daily|broadcaster|network|channel|magazine)\b")
_CONTRACTED = frozenset("That It There What Here Who Where When How He She Let".split())
# A heading inside a block of lines: short, no closing punctuation, the next line opens anew.
_HEADING_LINE = 60
_CLOSING = ".,;:!?…”\"'’)]"
# A short paragraph ending a sentence is a sentence, not a heading: in news, a brief
# quote ("“I am here,” he said.") that goes on with the entry before it, not the next.
# (Not one ending in "?" or "!": "Who is Abu Mohammed al-Jolani?" heads what answers it.)
_SENTENCE_END = re.compile(r"[.…][”\"’»)]*$")


@dataclass(frozen=True)
class _Paragraph:
    start: int
    end: int
    date: str | None
    section: int  # bumped by every date header: entries never span two sections


def _blocks(text: str, split_lines: bool, near: str | None) -> list[tuple[int, int]]:
    """Paragraph spans; with ``split_lines``, heading and date lines inside a block
    are blocks of their own (PDF pages come without blank lines between them).
    ``near``: a date of the page, for dates written without their year."""
    blocks = []
    for match in _PARAGRAPH.finditer(text):
        start, end = match.span()
        if not split_lines:
            blocks.append((start, end))
            continue
        lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text[start:end])]
        lines = [(start + a, start + b) for a, b in lines if text[start + a : start + b].strip()]
        block_start = lines[0][0]
        for (a, b), following in zip(lines, lines[1:] + [None]):
            line = text[a:b].strip()
            heading = following is not None and _is_heading(line, text[following[0] : following[1]].strip())
            if heading or is_date_header(line.lstrip("#* ").rstrip("*: "), near):
                if block_start < a:
                    blocks.append((block_start, a))
                blocks.append((a, b))
                block_start = following[0] if following else b
        if block_start < lines[-1][1]:
            blocks.append((block_start, lines[-1][1]))
    return blocks


def _is_heading(line: str, following: str) -> bool:
    return (
        len(line) < _HEADING_LINE
        and line[-1] not in _CLOSING
        and (line[0].isupper() or line[0].isdigit() or line[0] == "#")
        and (following[:1].isupper() or following[:1].isdigit() or following[:1] in "#“\"")
    )


def _paragraphs(text: str, date: str | None, profile: Profile) -> tuple[list[_Paragraph], str | None]:
    """Paragraph spans, each with the date in force there; also the date at the end."""
    paragraphs = []
    section = 0
    # A date without its year takes it from the date in force, or from the page's first
    # full date (a blog's dateline): the page's own year, never today's.
    page_date = first_full_date(text)
    for start, end in _blocks(text, split_lines=profile == "plain", near=date or page_date):
        first_line = text[start:end].split("\n", 1)[0]
        header = first_line.lstrip("#* ").rstrip("*: ")
        near = date or page_date
        if is_date_header(header, near):
            date = leading_date(header, near)
            section += 1
            rest = text.find("\n", start, end)
            if rest == -1:
                continue  # the header alone: it dates what follows, it is not a passage
            start = rest + 1
        elif profile == "news" and leading_date(header, near):
            date = leading_date(header, near)  # a dateline stays part of its passage
        while text[start].isspace():
            start += 1
        while text[end - 1].isspace():
            end -= 1
        paragraphs.append(_Paragraph(start, end, date, section))
    return paragraphs, date


def document_profile(documents: list[Document], settings: ChunkingSettings = CHUNKING) -> Profile:
    """"news" when a file states dates on several lines of their own (a live blog, a
    news page with datelines), else "plain"."""
    dated_lines = 0
    for document in documents:
        near = first_full_date(document.text)
        for line in document.text.split("\n"):
            line = line.strip().lstrip("#* ").rstrip("*: ")
            if line and line[0].isalnum() and leading_date(line, near):
                dated_lines += 1
                if dated_lines >= settings.news_min_dates:
                    return "news"
    return "plain"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _continues(previous: str, paragraph: str, common_names: frozenset[str]) -> bool:
    """True when ``paragraph`` belongs to the entry that ``previous`` opened.

    News entries and reports continue with a quote from the person just named, a
    pronoun, a connective, a definite noun that points back, or the same rare name.
    """
    if paragraph[0].islower() or _CONNECTIVES.match(paragraph):
        return True
    first_sentence = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    if _BACK_REFERENCE.search(first_sentence):
        return True
    first_word = paragraph.split(" ", 1)[0].rstrip(",’'s")
    if first_word in _FOLLOW_UP_START:
        return True
    if paragraph[0] in _OPENING_QUOTE:
        closing = _ATTRIBUTED_QUOTE_END.search(paragraph, 1)
        if closing is None:
            return False  # a quote that runs on into the sentence is no attribution
        speaker = _SPEECH_VERB.split(paragraph[closing.end() : closing.end() + 120], maxsplit=1)[0]
        if speaker.split(" ", 1)[0].lower() in _ANAPHORA:
            return True  # “…,” the diplomat wrote / he said
        unnamed = re.match(r"(?:an?|one) ([a-z]+)", speaker)
        if unnamed and unnamed.group(1) in _REPORTING_NOUNS:
            return True  # “…,” a spokeswoman said: someone of the body the entry names
        # “…,” Netanyahu stated / “…,” Col. Adraee, the IDF’s spokesman, announced
        # "the IDF’s spokesman" names the IDF; "That’s what …" names nothing.
        names = {re.sub(r"[’']s$", "", n) for n in _NAME_OR_ACRONYM.findall(speaker)} - _CONTRACTED
        return any(
            re.search(r"\b" + re.escape(name) + r"\b", previous) for name in names if name not in common_names
        )
    definite = _DEFINITE.match(paragraph)
    if definite:
        noun = definite.group(1)
        return noun in _REPORTING_NOUNS or noun.rstrip("s") in {w.rstrip("s") for w in _words(previous)}
    name = _NAME.match(paragraph)
    return bool(
        name
        and name.group() not in common_names
        and re.search(r"\b" + re.escape(name.group()) + r"\b", previous)
    )


def _common_names(text: str, paragraphs: list["_Paragraph"], share: float) -> frozenset[str]:
    """Names found in so many paragraphs (the country a blog is about) that sharing one means nothing."""
    counts: dict[str, int] = {}
    for paragraph in paragraphs:
        for name in set(_NAME.findall(text[paragraph.start : paragraph.end])):
            counts[name] = counts.get(name, 0) + 1
    limit = max(2, share * len(paragraphs))
    return frozenset(name for name, count in counts.items() if count > limit)


def _entries(
    text: str, paragraphs: list[_Paragraph], profile: Profile, settings: ChunkingSettings
) -> list[_Paragraph]:
    entries: list[_Paragraph] = []
    news = profile == "news"
    common_names = _common_names(text, paragraphs, settings.common_name_share) if news else frozenset()
    pending: _Paragraph | None = None  # a tiny paragraph waiting to join the next one
    announcing = False  # the pending paragraph ends in a colon
    for paragraph in paragraphs:
        if pending is not None and (news or announcing) and (
            pending.section != paragraph.section or pending.date not in (None, paragraph.date)
        ):
            # A blog's last short entry belongs to its own day; what a colon announces
            # lies in its own entry, not past the next header or dateline.
            entries.append(pending)
            pending = None
        joined = pending is not None
        if pending is not None:
            paragraph = _Paragraph(
                pending.start, paragraph.end, paragraph.date or pending.date, paragraph.section
            )
            pending = None
        announcing = text[paragraph.end - 1] == ":"
        if paragraph.end - paragraph.start < settings.tiny and not (
            news and not joined and _SENTENCE_END.search(text[paragraph.start : paragraph.end])
        ) or announcing:
            # A heading (or a dateline) waits for what it heads, with what it has gathered;
            # so does a paragraph ending in a colon ("… prefers APIs that:"), which
            # announces the next one (a list, a quote).
            pending = paragraph
            continue
        if news and entries:
            last = entries[-1]
            if (
                last.section == paragraph.section
                and last.date == paragraph.date  # a dateline starts a new entry
                and paragraph.end - last.start <= settings.max_chars
                and _continues(
                    text[last.start : last.end], text[paragraph.start : paragraph.end], common_names
                )
            ):
                entries[-1] = _Paragraph(last.start, paragraph.end, last.date, last.section)
                continue
        entries.append(paragraph)
    if pending is not None:
        entries.append(pending)
    return entries


def _bounded_sentences(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``; one longer than ``max_chars`` (a table, a
    list, text without punctuation) is cut at whitespace, as a last resort."""
    spans = []
    for s, e in sentence_spans(text[start:end]):
        s, e = start + s, start + e
        while e - s > max_chars:
            cut = text.rfind(" ", s + max_chars // 2, s + max_chars)
            cut = cut if cut > s else s + max_chars
            spans.append((s, cut))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        spans.append((s, e))
    return spans


def _windows(text: str, entry: _Paragraph, max_chars: int) -> list[tuple[int, int]]:
    """Whole-sentence windows of at most ``max_chars``, overlapping by one sentence."""
    if entry.end - entry.start <= max_chars:
        return [(entry.start, entry.end)]
    sentences = _bounded_sentences(text, entry.start, entry.end, max_chars)
    windows = []
    first = 0
    while first < len(sentences):
        last = first
        while last + 1 < len(sentences) and sentences[last + 1][1] - sentences[first][0] <= max_chars:
            last += 1
        windows.append((sentences[first][0], sentences[last][1]))
        if last + 1 >= len(sentences):
            break
        first = last if last > first else last + 1  # overlap by one sentence
    return windows


def chunk_documents(
    documents: list[Document],
    max_chars: int | None = None,
    *,
    profile: Profile | None = None,
    settings: ChunkingSettings = CHUNKING,
) -> list[Chunk]:
    """Passages of one file's documents (its pages, in order), dates carried across pages.

    ``profile`` defaults to what ``document_profile`` reads off the documents.
    ``chunk_id`` is the passage's position in the file; the store assigns real ids.

    >>> doc = Document("blog.txt", "09 December 2024\\n\\nPutin granted asylum.\\n\\n“Yes,” he said.")
    >>> [(c.text, c.date) for c in chunk_documents([doc], profile="news")]
    [('Putin granted asylum.\\n\\n“Yes,” he said.', '2024-12-09')]
    """
    if max_chars is not None:
        settings = dataclasses.replace(settings, max_chars=max_chars)
    profile = profile or document_profile(documents, settings)
    chunks: list[Chunk] = []
    date: str | None = None
    for document in documents:
        paragraphs, date = _paragraphs(document.text, date, profile)
        for entry in _entries(document.text, paragraphs, profile, settings):
            for start, end in _windows(document.text, entry, settings.max_chars):
                chunks.append(
                    Chunk(
                        chunk_id=len(chunks),
                        source=document.source,
                        text=document.text[start:end],
                        start=start,
                        end=end,
                        page=document.page,
                        date=entry.date,
                    )
                )
    return chunks
