"""The short answer to "who is X?": what the quoted sentence calls X.

Asked who someone is, a reader looks for the title or description the text gives them:
"Kremlin spokesman" in "… Kremlin spokesman Dmitry Peskov has said", "the head of the
group" in "Abu Mohammed al-Julani, the head of the group, has arrived", "Joe Biden's
national security adviser" in "… national security adviser, Jake Sullivan, said". These
stand in the sentence's grammar around the name (rag/parsing.py), not at a fixed
distance: the words before the name that depend on it, an apposition after it, or the
noun it is itself in apposition to. Without a parse, nothing is described.
"""

from __future__ import annotations

import re

from rag.answering.question import QuestionAnalysis, folded_in_place, mention_spans
from rag.parsing import Parse

# "who is X?", "who was X?", "what is X?", "who's X?": asking to be told about a name.
_ASKS_WHO_IS = re.compile(r"^\s*(?:who|what)(?:\s+(?:is|was|are|were)|['’]s)\s", re.I)
# Longer than this, a description is a clause, not a title: the quote says it better.
_MOST_WORDS = 20
# Relations that join a word to the name without describing it.
_NOT_DESCRIBING = frozenset({"punct", "det", "case", "cc", "prep", "aux", "auxpass", "mark"})


def described_name(analysis: QuestionAnalysis) -> str | None:
    """The one name a "who is X?" question asks about, or None for any other question."""
    if analysis.intent != "overview" or len(analysis.names) != 1 or not _ASKS_WHO_IS.match(analysis.text):
        return None
    return analysis.names[0][0]


def description(
    sentence: str, name: str, parse: Parse | None, names: "tuple[tuple[int, int], ...]" = ()
) -> tuple[int, int] | None:
    """Where ``sentence`` describes ``name`` (offsets in it), or None: the title before the
    name ("former Syrian President [Bashar Assad]"), else (or instead of a one-word
    title) an apposition after it ("[X], the head of the group,"), else the noun it
    stands in apposition to ("Biden's adviser, [X],"). ``names`` (offsets of the
    sentence's tagged names) widen a mention to the name it is part of: "Putin" is named
    by "Vladimir Putin", whose first name is no title."""
    if not parse:
        return None
    for start, end in mention_spans(folded_in_place(sentence), name):
        for other_start, other_end in names:
            if other_start <= start and end <= other_end:
                start, end = other_start, other_end
        inside = [i for i, t in enumerate(parse) if t.start < end and start < t.end]
        if not inside:
            continue
        heads = [i for i in inside if parse[i].head not in inside or parse[i].head == i]
        head = heads[-1] if heads else inside[-1]
        title = _title_before(parse, inside[0], head)
        apposition = _apposition_after(parse, head, inside[-1])
        # A title of one word is mostly a rank or an honorific ("Col.", "Dr", "President"):
        # an apposition that is a noun phrase says more ("Col. Adam Ray, the army's spokesman,").
        if _one_word(sentence, parse, title) and _describes(parse, apposition):
            title = None
        found = title or apposition or _apposed_to(parse, head, inside[0])
        if found is not None and found[1] - found[0] <= _MOST_WORDS:
            return parse[found[0]].start, parse[found[1] - 1].end
    return None


def _one_word(sentence: str, parse: Parse, span: tuple[int, int] | None) -> bool:
    """Whether the span of words holds one word (a mark such as the dot of "Col." is none)."""
    return span is not None and sum(
        any(ch.isalnum() for ch in sentence[parse[i].start : parse[i].end]) for i in range(*span)
    ) == 1


def _describes(parse: Parse, span: tuple[int, int] | None) -> bool:
    """Whether an apposition says what someone is: a noun phrase of two words or more
    and at most ``_MOST_WORDS`` (not an age, "59", nor a name or initials, "SDF")."""
    if span is None or not 2 <= span[1] - span[0] <= _MOST_WORDS:
        return False
    head = next((i for i in range(*span) if not span[0] <= parse[i].head < span[1] or parse[i].head == i), None)
    return head is not None and parse[head].pos == "NOUN"


def _title_before(parse: Parse, first: int, head: int) -> tuple[int, int] | None:
    """The words right before the name that hang on it: "Kremlin spokesman", "former
    Syrian President" (not "the", nor a word of another phrase)."""
    begin = first
    while begin > 0 and (_joined(parse, begin - 1) or parse[begin - 1].dep not in _NOT_DESCRIBING) and _under(
        parse, begin - 1, head
    ):
        begin -= 1
    if begin == first or not any(parse[i].pos in ("NOUN", "PROPN") for i in range(begin, first)):
        return None
    return begin, first


def _apposition_after(parse: Parse, head: int, last: int) -> tuple[int, int] | None:
    for i in range(last + 1, len(parse)):
        if parse[i].head == head and parse[i].dep == "appos":
            return _trimmed(parse, *_subtree(parse, i))
    return None


def _apposed_to(parse: Parse, head: int, first: int) -> tuple[int, int] | None:
    """The noun before the name that the name is in apposition to, with its words."""
    if parse[head].dep != "appos" or parse[head].head >= first:
        return None
    noun = parse[head].head
    begin, _ = _subtree(parse, noun)
    return _trimmed(parse, begin, noun + 1)


def _joined(parse: Parse, token: int) -> bool:
    """A mark inside a word, touching the words on both sides: the hyphen of "Secretary-General"."""
    return 0 < token < len(parse) - 1 and parse[token - 1].end == parse[token].start and parse[token].end == parse[token + 1].start


def _under(parse: Parse, token: int, head: int) -> bool:
    """Whether ``token`` depends on ``head``, directly or through other words."""
    seen = set()
    while token != head and token not in seen:
        seen.add(token)
        if parse[token].head == token:
            return False
        token = parse[token].head
    return token == head


def _subtree(parse: Parse, root: int) -> tuple[int, int]:
    """(first, last + 1) of the words under ``root``, itself included."""
    members = [i for i in range(len(parse)) if _under(parse, i, root)]
    return min(members), max(members) + 1


def _trimmed(parse: Parse, begin: int, end: int) -> tuple[int, int] | None:
    """The span without the punctuation at its ends; None when nothing is left."""
    while begin < end and parse[begin].dep == "punct":
        begin += 1
    while end > begin and parse[end - 1].dep == "punct":
        end -= 1
    return (begin, end) if begin < end else None


__all__ = ["described_name", "description"]
