"""Follow-up questions: "where is he now?" asked after "who leads HTS?".

A follow-up names nobody itself; it leans on the conversation through a pronoun
("he", "they", "there") or an ellipsis ("and Iran?"). Before retrieval it is
rewritten with the names of the earlier turns, newest first: a person for "he",
a group or country for "they", a place for "there". The earlier turn's short
answer is its most salient name, then the names its question used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answering.question import (
    AT_A_PLACE, BACK_REFERENCE, BARE_QUESTION_WORD, EXISTENTIAL_THERE, PEOPLE, PLACES, QuestionAnalysis, noun_labels,
)
from rag.entities import Gazetteer, entity_key, written_as_name
from rag.types import Answer

# Which names a pronoun can stand for, in order of preference.
_PRONOUN_LABELS: dict[str, tuple[str, ...]] = {
    "he": ("PERSON", "NAME"), "him": ("PERSON", "NAME"), "his": ("PERSON", "NAME"),
    "she": ("PERSON", "NAME"), "her": ("PERSON", "NAME"), "hers": ("PERSON", "NAME"),
    "they": ("ORG", "NORP", "GPE", "PERSON", "OWNED", "NAME"), "them": ("ORG", "NORP", "GPE", "PERSON", "OWNED", "NAME"),
    "their": ("ORG", "NORP", "GPE", "PERSON", "OWNED", "NAME"),
    "it": ("ORG", "GPE", "FAC", "LOC", "EVENT", "PRODUCT", "NAME"), "its": ("ORG", "GPE", "FAC", "LOC", "NAME"),
    "there": ("GPE", "LOC", "FAC", "NAME"),
}
_PRONOUN = re.compile(r"\b(" + "|".join(_PRONOUN_LABELS) + r")\b", re.I)
# One name never stands for a singular and a plural pronoun of the same question: in
# "why did they do it?" "it" is not what "they" are.
_PLURAL = frozenset({"they", "them", "their"})
# Pronouns that are only objects: never the one a subject pronoun of the question names.
_OBJECT = frozenset({"him", "them"})
# A verb of motion, with its object, right before "there": it is where to, not where.
_MOTION_BEFORE = re.compile(
    r"\b(?:go|goes|went|gone|going|get|gets|got|getting|come|comes|came|coming|take|takes|took|taken|taking|"
    r"send|sends|sent|move|moves|moved|flee|flees|fled|fly|flies|flew|flown|travel|travels|travell?ed|return|"
    r"returns|returned|arrive|arrives|arrived|head|heads|headed|bring|brings|brought|drive|drove|driven|run|ran|"
    r"walk|walked|rush|rushed|deploy|deployed|transfer|transferred|evacuate|evacuated|relocate|relocated)"
    r"(?:\s+(?:him|her|them|it|us|me|you))?\s+$",
    re.I,
)
# "do it", "did it": "it" stands for an action, not for a name.
_DO_IT = re.compile(r"\b(?:do|does|did|doing|done)\s+$", re.I)
# The question word of an earlier question followed by its auxiliary ("what did …",
# "where is …"): swapping in the new question word keeps the question grammatical.
_QUESTION_WORD = r"(?:how (?:many|much|long|old|far|big|often|soon)|what|who|whom|whose|which|where|when|why|how)"
_LEADING_QUESTION_WORD = re.compile(
    r"^\s*" + _QUESTION_WORD + r"\s+(?=(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|should)\b)",
    re.I,
)
# Follow-up words that ask what another question word asks.
_SAME_AS = {"how so": "how", "since when": "when"}
# An auxiliary right after the question's asking words makes them its object.
_AUXILIARY_NEXT = re.compile(r"\s+(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|should)\b")
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|also)\s+(?:in\s+|for\s+|about\s+)?(.+?)[?.!\s]*$", re.I)


def _label(name: str, gazetteer: Gazetteer | None, fallback: str = "NAME") -> str:
    if gazetteer is not None:
        return gazetteer.labels.get(entity_key(name), fallback)
    return fallback


def antecedents(history: Sequence[Answer], gazetteer: Gazetteer | None) -> list[tuple[str, str]]:
    """Names of the conversation, newest turn first: each turn's short answer, then its question's names."""
    from rag.answering.question import analyze

    names: list[tuple[str, str]] = []
    for turn in reversed(history):
        if turn.short:
            names.append((turn.short, _label(turn.short, gazetteer)))
        asked = turn.question_used or turn.question
        names.extend((owned, "OWNED") for owned in _owned_plurals(asked))
        for name, label in analyze(asked, gazetteer).names:
            # "Assad's" in "who is Assad's wife?": "he" later is Assad. A group's or a
            # place's name may end in 's itself ("McDonald's").
            names.append((re.sub(r"[’']s$", "", name) if label in ("PERSON", "NAME") else name, label))
    seen, unique = set(), []
    for name, label in names:
        if entity_key(name) not in seen:
            seen.add(entity_key(name))
            unique.append((name, label))
    return unique


# A name in the possessive and the plural noun it owns: "Russia's two military bases".
_OWNED_PLURAL = re.compile(
    r"\b(?!(?i:what|who|where|when|how|why|that|it|there|here|he|she|let)[’']s\b)"  # contractions: "what's"
    r"((?:[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*|[a-z][\w-]*)[’']s)"
    r"((?:\s+(?!(?:in|of|on|at|to|for|from|by|with|and|or)\b)[a-z][\w-]*){0,2}\s+[a-z][\w-]*(?<![siu])s)\b"
)


def _owned_plurals(question: str) -> list[str]:
    """What a name in the possessive owns, in the plural, in ``question``: "they" after
    "what are Russia's two military bases called?" are the bases, not Russia, which the
    possessive only says whose they are."""
    return [
        match.group(1) + match.group(2) for match in _OWNED_PLURAL.finditer(question)
        # After "if", "when" …, a clause: "if Assad's regime falls" has its verb in the plural's place.
        if not re.search(r"\b(?:if|when|whether|after|before|once|unless|until|because|since)\s+$", question[: match.start()], re.I)
    ]


def quoted_person(history: Sequence[Answer], gazetteer: Gazetteer | None) -> list[tuple[str, str]]:
    """The person the last answer's first quote names, when it names exactly one: "what's
    his name?" after "what did Iran's foreign minister say?" asks about the minister the
    answer quoted ("Foreign Minister [X] said …"), who is no short answer (a statement is)
    and not in the question. Two people quoted, there is no telling which "he" is."""
    if not history or gazetteer is None or not history[-1].found or not history[-1].citations:
        return []
    quote = history[-1].citations[0].quote
    people = {entity_key(quote[s:e]): quote[s:e] for s, e, label in gazetteer.find(quote) if label == "PERSON"}
    return [(name, "PERSON") for name in people.values()] if len(people) == 1 else []


# Words by which a follow-up asks for something other than what was said: "which group
# did he lead before?" after "who leads HTS?" asks for a group that is not HTS.
_CONTRAST = re.compile(r"\b(?:before|previously|earlier|formerly|else|other|besides|apart from)\b", re.I)


def contrasted(analysis: QuestionAnalysis, history: Sequence[Answer], gazetteer: Gazetteer | None) -> tuple[str, ...]:
    """The names of the earlier turns of the kind ``analysis`` (the rewritten follow-up)
    asks for, when it asks for another one than those: they can't be its answer."""
    if not history or not analysis.expected or _CONTRAST.search(analysis.text) is None:
        return ()
    own = {entity_key(name) for name, _ in analysis.names}
    # The turn it follows: what an older turn gave was about something else ("Moscow" for
    # where Assad is, two turns before "where did he live before?" about another man).
    return tuple(
        name for name, label in antecedents(history[-1:], gazetteer)
        if (label in analysis.expected or label == "NAME") and entity_key(name) not in own
    )


def rewrite(analysis: QuestionAnalysis, history: Sequence[Answer], gazetteer: Gazetteer | None) -> str:
    """The question with its pronouns or ellipsis filled in from the conversation, or as it was."""
    question = analysis.text
    if not history:
        return question
    if BARE_QUESTION_WORD.match(question):
        return _ask_of_previous(history[-1], question)
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis and analysis.names:
        # Needs only the earlier question, not names from it.
        return _swap_into_previous(history[-1], analysis, gazetteer) or question
    names = antecedents(history, gazetteer)
    # Whom the last answer quoted comes after every name of the conversation itself.
    quoted = quoted_person(history, gazetteer)
    if not names and not quoted:
        return question

    plural_of: dict[str, bool] = {}  # the names used so far: for a plural pronoun or not
    # A name in the possessive before a plural it owns is whose they are, not what "they" are.
    owners = {entity_key(name.split("’")[0].split("'")[0]) for name, label in names if label == "OWNED"}
    # The possessive in the user's own apostrophe: "what's Omar Daher's name?", not "…Daher’s".
    apostrophe = "'" if "'" in question and "’" not in question else "’"

    def replace(match: re.Match) -> str:
        pronoun = match.group(1).lower()
        if pronoun == "there" and EXISTENTIAL_THERE.search(question[max(0, match.start() - 12) : match.end() + 12]):
            return match.group(0)
        if pronoun == "it" and _DO_IT.search(question[: match.start()]):
            return match.group(0)
        plural = pronoun in _PLURAL
        for group in (names, quoted):
            for wanted in _preferred(pronoun, group, owners):
                for name, label in group:
                    if plural and label != "OWNED" and entity_key(name) in owners:
                        continue
                    if label == wanted and plural_of.get(name, plural) == plural:
                        if name in plural_of and pronoun in _OBJECT:
                            # "did he call him?": one who did it to himself would be
                            # "himself"; "him" is someone else of the conversation.
                            continue
                        if name in plural_of:
                            # Named once, the question refers back to it as written:
                            # "where does [X] say he is?", not "… say X is?".
                            return match.group(0)
                        plural_of[name] = plural
                        if pronoun in ("his", "its", "their"):
                            # "the bases’ commanders", "Russia’s envoy"
                            return f"{name}{apostrophe}" if label == "OWNED" else f"{name}{apostrophe}s"
                        if pronoun == "there":
                            # "how many are stuck there?": "… stuck in Germany?"; "why did he go
                            # there?": "… go to Moscow?"; after a preposition, the place alone.
                            before = question[: match.start()]
                            if AT_A_PLACE.search(before) or re.search(r"\b(?:from|to|out of)\s+$", before, re.I):
                                return name
                            return f"to {name}" if _MOTION_BEFORE.search(before) else f"in {name}"
                        return name
        return match.group(0)

    rewritten = _PRONOUN.sub(replace, question)
    if analysis.names:
        return rewritten

    # Only names: an earlier short answer may be a date or a number.
    named = [(name, label) for name, label in names if written_as_name(name, "NAME") and not re.search(r"\d", name)]

    def refer(match: re.Match) -> str:
        # A name of the noun's kind, else one of unknown kind (which may be it).
        kinds = noun_labels(match.group(1)) or frozenset()
        for wanted in (kinds, {"NAME"}):
            found = next((name for name, label in named if label in wanted), None)
            if found is not None:
                return found
        return match.group(0)

    return BACK_REFERENCE.sub(refer, rewritten)


def _preferred(pronoun: str, names: list[tuple[str, str]], owners: set[str]) -> tuple[str, ...]:
    """The labels a pronoun takes, in order of preference. What a possessive owns ("they"
    after "what are Russia's two military bases called?") comes after the conversation's
    groups, countries and people, unless it was named before the first of them (newest
    turn first, its short answer first): then it is what the last turn was about, and a
    place of its question ("… bases in Syria") is not what "they" are."""
    labels = _PRONOUN_LABELS[pronoun]
    if "OWNED" not in labels:
        return labels
    kinds = [i for i, (name, label) in enumerate(names) if label in labels and label not in ("OWNED", "NAME")
             and entity_key(name) not in owners]
    owned = [i for i, (_, label) in enumerate(names) if label == "OWNED"]
    if owned and (not kinds or owned[0] < kinds[0]):
        return ("OWNED", *(label for label in labels if label != "OWNED"))
    return labels


def _swap_into_previous(previous: Answer, analysis: QuestionAnalysis, gazetteer: Gazetteer | None) -> str | None:
    """ "and Iran?" after "what did Russia say about Assad?": the earlier question, with
    the new name in place of the earlier name of the same kind."""
    from rag.answering.question import analyze

    earlier = previous.question_used or previous.question
    new_name, new_label = analysis.names[0]
    kinds = [PEOPLE, PLACES]
    read = analyze(earlier, gazetteer)
    for name, label in read.names:
        same_kind = label == new_label or any(label in kind and new_label in kind for kind in kinds)
        if same_kind or "NAME" in (label, new_label):
            return re.sub(r"\b" + re.escape(name) + r"\b", new_name, earlier, count=1)
    # "and Norway?" after "which countries signed the treaty?": the new name is of the
    # kind the earlier question asked for, so it asks whether it is one of them: "Norway
    # signed the treaty?".
    asked = _asked_with(earlier, read)
    if asked is not None and (new_label in read.expected or (new_label == "NAME" and read.expected)):
        return f"{new_name} {earlier[asked:].lstrip()}"
    # Of another kind than the earlier question's one name, and not of the kind it asks
    # for: still asked in that name's place ("and Lyon?" after "which team beat Nantes?",
    # with Lyon tagged a person). The kinds come from a tagger that mislabels names; the
    # question has no other place for it, and appended it would read as nothing. But
    # not where the name says where something happened ("died in Paris"): a person or a
    # group can't take a place's part there.
    if len(read.names) == 1 and new_label not in read.expected:
        name = read.names[0][0]
        at = re.search(r"\b" + re.escape(name) + r"\b", earlier)
        placed = at is not None and AT_A_PLACE.search(earlier[: at.start()])
        if at is not None and not (placed and new_label not in PLACES):
            return earlier[: at.start()] + new_name + earlier[at.end() :]
    return f"{earlier.rstrip('?')} {new_name}?"


def _asked_with(question: str, read: QuestionAnalysis) -> int | None:
    """Where the question word and the noun it asks with end, when they open the
    question as its subject ("who signed", "which countries signed", "what rebel group
    took"); None otherwise (the object: "what country did Assad flee to?")."""
    lowered = question.lower()
    start = re.match(r"\s*(?:(who)|which|what)\b", lowered)
    if start is None:
        return None
    end = start.end()
    if not start.group(1):
        if read.head_noun is None:
            return None
        head = re.compile(r"\b" + re.escape(read.head_noun) + r"\b").search(lowered, end)
        if head is None:
            return None
        end = head.end()
    if _AUXILIARY_NEXT.match(lowered[end:]):
        return None
    return end


def _ask_of_previous(previous: Answer, question: str) -> str:
    """ "why?" after "what did Netanyahu order?": "why did Netanyahu order?". Where the
    earlier question has no auxiliary to keep ("who took Palmyra?"), the new question
    word takes the place of its own ("when took Palmyra?"): not English, but what
    retrieval and the question's reading need."""
    earlier = previous.question_used or previous.question
    asked = " ".join(question.lower().split()).rstrip("?.! ")
    asked = _SAME_AS.get(asked, asked)
    if _LEADING_QUESTION_WORD.match(earlier):
        return _LEADING_QUESTION_WORD.sub(asked + " ", earlier, count=1)
    # The earlier question word goes, or it would still be read as what is asked.
    rest = re.sub(r"^\s*" + _QUESTION_WORD + r"\b(?:['’]s)?\s*", "", earlier, flags=re.I)
    return f"{asked} {rest}"
