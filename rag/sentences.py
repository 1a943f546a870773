"""Sentence boundaries with character offsets, for chunking and for quoting."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres
    rev fr hon no nos vol fig figs al etc vs approx dept est inc ltd co corp
    jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n""".split()
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A candidate end: terminal punctuation, any closing quotes or brackets, then space.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_OPENS_SENTENCE = re.compile(r"\s+[\"'“‘(\[]*[A-Z0-9À-ÖØ-Þ]")
SHORT_LINE = 60  # a line shorter than this without closing punctuation is a title or dateline
# Indexes store a vector for each sentence that sentence_spans() finds in a passage, in
# its order (rag.segments); bump this whenever a change would split any text differently,
# so that vectors stored by the old splitting are no longer taken for the new sentences.
SPLITTER_VERSION = 1


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at ``dot`` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "(“\"'":
        word_start -= 1
    word = text[word_start:dot].lower()
    if word in _ABBREVIATIONS or "." in word:
        return True
    return len(word) == 1 and word.isalpha()  # an initial, as in "J. Smith"


def _split_block(text: str, offset: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if not _OPENS_SENTENCE.match(text, end):
            continue
        punctuation_end = match.start() + len(match.group().rstrip("\"'”’)]")) - 1
        if _is_abbreviation(text, punctuation_end):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    # A short line with no closing punctuation (a title, a dateline) ends where it ends.
    split: list[tuple[int, int]] = []
    for s, e in spans:
        base = line_start = s
        for match in re.finditer(r"\n", text[base:e]):
            line_break = base + match.start()
            line = text[line_start:line_break].strip()
            if line and len(line) < SHORT_LINE and line[-1] not in ".,;:!?…”\"'":
                split.append((s, line_break))
                s = line_break
            line_start = line_break + 1
        split.append((s, e))
    return [(offset + s, offset + e) for s, e in split]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text``, whitespace trimmed.

    >>> text = "Dr. Smith arrived. “We will stay,” he said.\\n\\nNext one?"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Dr. Smith arrived.', '“We will stay,” he said.', 'Next one?']
    """
    spans: list[tuple[int, int]] = []
    block_start = 0
    for brk in list(_PARAGRAPH_BREAK.finditer(text)) + [None]:
        block_end = brk.start() if brk else len(text)
        spans.extend(_split_block(text[block_start:block_end], block_start))
        if brk:
            block_start = brk.end()
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return trimmed


def paragraph_start(text: str, offset: int) -> int:
    """Where the paragraph holding ``offset`` begins (a blank line, even of spaces, ends one)."""
    start = 0
    for brk in _PARAGRAPH_BREAK.finditer(text, 0, offset):
        start = brk.end()
    return start


def crosses_paragraphs(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` holds a paragraph break."""
    return _PARAGRAPH_BREAK.search(text, start, end) is not None
