"""A generated answer cut into sentences, each with the passage numbers it cites.

Models write citations in several ways: "… asylum [1].", "… asylum. [1]", "[1][2]",
"[1, 2]", "[Passage 1]"; a citation standing after a sentence's full stop belongs to that
sentence, not the next. Markdown that small models add (bullets, bold) is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.sentences import sentence_spans

# [1] [1, 2] [1-3] [1 and 2] [Passage 1] [source 2]; also the full-width 【1】.
_CITATION = re.compile(
    r"[\[【]\s*(?:(?:passages?|sources?|documents?|docs?|refs?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|and|&|-|–)\s*(?:(?:passages?|sources?)\s*)?\d{1,3})*)\s*[\]】]",
    re.I,
)
_LEADING_CITATIONS = re.compile(r"^(?:\s*" + _CITATION.pattern + r")+", re.I)
_BULLET = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+", re.M)
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?…])")


@dataclass(frozen=True)
class Claim:
    """One generated sentence: ``text`` without its citations, ``markers`` as written (1-based)."""

    text: str
    markers: tuple[int, ...]


def _numbers(group: str) -> list[int]:
    """'1, 2' → [1, 2]; '1-3' → [1, 2, 3] (a short range only)."""
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|&)\s*", group):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        if len(bounds) == 2 and re.search(r"[-–]", part) and 0 < bounds[1] - bounds[0] <= 10:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def clean_markdown(text: str) -> str:
    """The text without bullets, headings and bold or italic marks."""
    return _EMPHASIS.sub("", _HEADING.sub("", _BULLET.sub("", text)))


def split_claims(generated: str) -> list[Claim]:
    """The sentences of a generated answer, each with the passages it cites.

    >>> split_claims("Putin granted asylum [1]. Assad is in Moscow. [2][3] Nothing else.")
    [Claim(text='Putin granted asylum.', markers=(1,)), Claim(text='Assad is in Moscow.', markers=(2, 3)), Claim(text='Nothing else.', markers=())]
    """
    text = clean_markdown(generated.replace("\r\n", "\n"))
    pieces: list[tuple[str, list[int]]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        leading = _LEADING_CITATIONS.match(sentence)
        if leading and pieces:  # "… asylum. [1] Next": the [1] closes the sentence before
            pieces[-1][1].extend(n for m in _CITATION.finditer(leading.group()) for n in _numbers(m.group(1)))
            sentence = sentence[leading.end():]
        markers = [n for m in _CITATION.finditer(sentence) for n in _numbers(m.group(1))]
        plain = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _CITATION.sub(" ", sentence))
        plain = " ".join(plain.split())
        if not re.search(r"\w", plain):  # only citations or punctuation: they belong to the sentence before
            if pieces:
                pieces[-1][1].extend(markers)
            continue
        pieces.append((plain, markers))
    return [Claim(plain, tuple(dict.fromkeys(markers))) for plain, markers in pieces]
