"""Who "he" or "she" stands for: the person named just before it.

Short answers read a pronoun as that person (spans.py), and a sentence that says "he"
of the person a question names is about that person as much as one that names him
(candidates.py).
"""

from __future__ import annotations

import re

from rag.answering.question import surname
from rag.entities import Entity
from rag.lexical import fold
from rag.sentences import paragraph_start, sentence_spans

# How many sentences back a pronoun's person is looked for, as quotes lean back
# (select.py): further than that, the passage has mostly moved on to someone else.
_PRONOUN_REACH = 3


def antecedent(text: str, at: int, entities: tuple[Entity, ...], own_sentence: bool = True) -> Entity | None:
    """The person the "he" or "she" ("him", "his", "her") at ``text[at]`` stands for: the
    person named before it in its sentence, else in the nearest sentence before that
    names one, at most ``_PRONOUN_REACH`` back and within its paragraph (a new paragraph
    mostly names whom it is about again); None when that sentence names two people or
    more. A pronoun mostly goes on with the person just named, but which of two it is
    takes knowing who is a man and who a woman, or what the sentence means: no short
    answer is better than a guess. A person named after an earlier "he" or "she" of the
    pronoun's own sentence is no candidate ("He told Rana Sami that he …" goes on with
    the first "He"), nor is a name in the possessive ("Sami's party": not a subject).
    A surname stands for the person last named in full with it, whatever label the
    tagger gave it alone, and the answer is the full name.

    Without ``own_sentence``, the person is looked for in the sentences before only: for
    "the diplomat", which news writes of someone introduced before ("Mikhail Ulyanov,
    Russia's envoy, … “…,” the diplomat wrote"), while a name earlier in its own sentence
    is mostly someone else, the one it speaks of; the sentences before may then lie in the
    passage's paragraph before."""

    def possessive(x: Entity) -> bool:
        return bool(re.match(r"[’']s\b", text[x.end : x.end + 2]) or re.search(r"[’']s$", text[x.start : x.end]))

    # A passage's paragraphs were joined because they go on with each other (chunking.py):
    # "“…,” the diplomat wrote" opening one is about whom the one before introduced.
    floor = paragraph_start(text, at) if own_sentence else 0
    bounds = [(s, e) for s, e in sentence_spans(text) if floor <= s <= at]
    if not bounds:
        return None
    # Within its own sentence, only names before the sentence's first "he" or "she".
    own_start = bounds[-1][0]
    first_pronoun = re.search(r"\b(?:he|she)\b", text[own_start:at], re.I)
    own_end = own_start + first_pronoun.start() if first_pronoun else at
    persons: list[tuple[Entity, Entity]] = []  # (where named, who: the full name)
    full: dict[str, Entity] = {}
    for entity in sorted(entities, key=lambda x: x.start):
        if entity.end > at:
            continue
        name = text[entity.start : entity.end]
        who = full.get(fold(name)) or (entity if entity.label == "PERSON" else None)
        if entity.label == "PERSON" and (last := surname(name)):
            full[fold(last)] = entity  # the latest person of that surname
        if who is not None and not possessive(entity):
            persons.append((entity, who))
    for number, (s, e) in enumerate(reversed(bounds[-1 - _PRONOUN_REACH :])):
        if number == 0 and not own_sentence:
            continue
        end = own_end if number == 0 else e
        inside = {fold(text[who.start : who.end]): who for where, who in persons if s <= where.start < end}
        if len(inside) > 1:
            return None
        if inside:
            return next(iter(inside.values()))
    return None
