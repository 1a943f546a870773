"""Which sentences to quote, once each has its probability of answering.

Each rule here has a reason that holds for any corpus, written beside it; each can
be switched off (``Rules``) so scripts/answer_ablation.py can measure it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from rag.answering.candidates import Candidate
from rag.answering.question import (
    AGENT_NOUNS, ROLE_ABBREVIATIONS, QuestionAnalysis, folded, mention_starts, mentions, modifier_name, noun_labels,
    speakers, spelled_out, stance_subject,
)
from rag.entities import listed_under
from rag.sentences import crosses_paragraphs, sentence_spans
from rag.settings import ANSWER, AnswerSettings


@dataclass(frozen=True)
class Rules:
    """The selection rules, each on by default; ablations turn one off at a time."""

    neighbour: bool = True
    lean_back: bool = True
    qualification: bool = True
    dispute: bool = True
    list_items: bool = True
    statements: bool = True
    titles: bool = True
    writers_lists: bool = True
    announced: bool = True


RULES = Rules()


@dataclass(frozen=True)
class Quote:
    """What is quoted: ``candidate.hit.text[start:end]``, around the candidate sentence."""

    candidate: Candidate
    start: int
    end: int

    @property
    def hit(self):
        return self.candidate.hit

    @property
    def text(self) -> str:
        return self.candidate.hit.text[self.start : self.end]

    def overlaps(self, other: "Quote") -> bool:
        a, b = self.hit, other.hit
        if (a.source, a.page) != (b.source, b.page):
            return False
        return a.start + self.start < b.start + other.end and b.start + other.start < a.start + self.end


# A sentence that only makes sense after the one before it: a pronoun opening, also
# after an opening phrase ("In 2015, he …"), or a quote whose speaker is "the diplomat"
# or "he", named in the sentence before.
_LEANS_BACK = re.compile(
    r"^(?:[“\"][^”\"]+[,.!?]?[”\"]\s*,?\s+(?:the|he|she|they)\b|(?:He|She|They|It|This|These|Those|His|Her|Their|Its)\b)"
)
# The pronoun after an opening phrase, which leans back unless the phrase names someone
# itself ("When Erdogan arrived, he said …").
_OPENING_THEN_PRONOUN = re.compile(r"^(?:[^,.;:“”\"]{1,40},\s*){1,2}(?=(?:he|she|they)\b)")
# How many sentences back a quote may reach for whom its pronoun names, each leaning on the one before.
_LEAN_BACK_MOST = 3
# How far past a sentence ending in a colon its quote may run to hold what it announces.
_ANNOUNCED_MOST = 500
# A sentence that qualifies the one before it ("However, no evidence has emerged …").
_QUALIFIES = re.compile(r"^(?:However|But|Yet|Still|Nevertheless|Nonetheless)\b")
# A sentence that denies a report: a claim and its denial are quoted together.
_DENIAL = re.compile(
    r"\b(?:no truth|untrue|not true|false|fake|denied|denies|deny|refuted|rejects? (?:the )?(?:claims?|reports?)|"
    r"baseless|unfounded|no evidence|not (?:been )?confirmed|incorrect|unverified)\b",
    re.I,
)


# "The senator added …": a person named before, now called by the role.
_ROLE_OPENING = re.compile(r"^The ([a-z-]+)\b")


def _leans_back(candidate: Candidate, start: int, end: int) -> bool:
    """Whether ``candidate.hit.text[start:end]``, a sentence, needs the one before it."""
    text = candidate.hit.text
    if _LEANS_BACK.match(text[start:end]):
        return True
    role = _ROLE_OPENING.match(text[start:end])
    if role is not None and noun_labels(role.group(1)) == frozenset({"PERSON"}):
        return True
    opening = _OPENING_THEN_PRONOUN.match(text[start:end])
    return opening is not None and not any(
        e.label in ("PERSON", "NAME") and start <= e.start and e.end <= start + opening.end() for e in candidate.entities
    )


def _widen(quote: Quote, rules: Rules) -> Quote:
    """The quote with the sentence it leans on before it, and the one qualifying it after."""
    text = quote.hit.text
    spans = sentence_spans(text)
    start, end = quote.start, quote.end
    for _ in range(_LEAN_BACK_MOST if rules.lean_back else 0):
        # "…,” the diplomat wrote" or "He fled …" can't be read without who was named before,
        # even across a paragraph break: a passage is one entry, joined because it continues.
        # The sentence before may lean back in turn ("He fled … In 2015, he …").
        before = [s for s, e in spans if e <= start]
        if not before or not _leans_back(quote.candidate, start, end):
            break
        start = before[-1]
    if rules.qualification:
        # Quoting a claim without the caveat its source attaches would misreport the source.
        after = [(s, e) for s, e in spans if s >= end]
        if after and not crosses_paragraphs(text, end, after[0][0]) and _QUALIFIES.match(text[after[0][0] : after[0][1]]):
            end = after[0][1]
    if rules.announced and text[start:end].rstrip().endswith(":"):
        # "… will prefer APIs that:" announces what follows it (a list, mostly, in the next
        # paragraph); alone, it quotes nothing. What it announces comes with it, up to the
        # end of the paragraph after it.
        limit, breaks = end + _ANNOUNCED_MOST, 0
        for s, e in spans:
            if s < end:
                continue
            if e > limit:
                break
            breaks += crosses_paragraphs(text, end, s)
            if breaks > 1:
                break
            end = e
    return dataclasses.replace(quote, start=start, end=end)


def _with_neighbour(best: Candidate, ranked: list[Candidate], settings: AnswerSettings) -> Quote:
    """The best sentence, joined with the next sentence of its paragraph when that one
    also scores well: two adjacent sentences that both answer usually tell one thing."""
    for other in ranked[1:]:
        if other.probability < settings.neighbour_share * best.probability:
            break
        if other.hit.chunk_id != best.hit.chunk_id or abs(other.position - best.position) != 1:
            continue
        start, end = min(best.start, other.start), max(best.end, other.end)
        if not crosses_paragraphs(best.hit.text, start, end):
            return Quote(best, start, end)
    return Quote(best, best.start, best.end)


def _add(chosen: list[Quote], quote: Quote, settings: AnswerSettings) -> bool:
    if len(chosen) >= settings.max_quotes or any(quote.overlaps(q) for q in chosen):
        return False
    chosen.append(quote)
    return True


def select(
    analysis: QuestionAnalysis,
    ranked: list[Candidate],
    settings: AnswerSettings = ANSWER,
    rules: Rules = RULES,
) -> list[Quote]:
    """The quotes that answer, best first; ``ranked`` holds the candidates best first."""
    if analysis.intent in ("overview", "day"):
        return [_widen(q, rules) for q in overview(ranked, settings, analysis)]
    best = ranked[0]
    if analysis.role and rules.titles:
        # A sentence titling someone with the role, in a passage holding the question's
        # other words: "the head of [another body]" answers no "who heads X?".
        # A title saying whose role it is ("Syrian Prime Minister [X]") goes before a bare
        # one read with its passage's words ("Prime Minister [X]" in a passage naming
        # Syria, perhaps as another country than the minister's own).
        holders = [c for c in ranked if holds_role(c, analysis)]
        best = next((c for c in holders if titled(c, analysis, explicit=True)), holders[0] if holders else best)
    if analysis.intent == "list" and rules.writers_lists:
        best = next((c for c in ranked if writers_list(c, analysis)), best)
    chosen = [_with_neighbour(best, ranked, settings) if rules.neighbour else Quote(best, best.start, best.end)]
    floor = settings.companion_share * best.probability
    if analysis.intent == "list" and rules.list_items:
        # A list is spread over passages: one sentence from each passage that names items.
        passages = {best.hit.chunk_id}
        for candidate in ranked[1:]:
            if candidate.probability < floor:
                break
            if candidate.answers and candidate.hit.chunk_id not in passages:
                if _add(chosen, Quote(candidate, candidate.start, candidate.end), settings):
                    passages.add(candidate.hit.chunk_id)
    if rules.dispute:
        # One passage denies what another claims: quoting one side would take it.
        best_denies = bool(_DENIAL.search(best.text))
        for candidate in ranked[1:]:
            if candidate.probability < floor:
                break
            if bool(_DENIAL.search(candidate.text)) != best_denies:
                _add(chosen, Quote(candidate, candidate.start, candidate.end), settings)
                break
    widened: list[Quote] = []
    for quote in (_widen(q, rules) for q in chosen):
        if not any(quote.overlaps(q) for q in widened):  # context may have made two quotes meet
            widened.append(quote)
    return widened


def writers_list(candidate: Candidate, analysis: QuestionAnalysis) -> bool:
    """Whether the sentence lists two names or more under the noun the question asks
    for ("which cities …?": "… the cities of Aleppo, Hama and Homs"): the writer's own
    list of what was asked, which a reader would quote, however the question's other
    words score."""
    return any(len(items) >= 2 for items in _lists_of_asked(candidate, analysis))


def writers_items(candidate: Candidate, analysis: QuestionAnalysis) -> tuple:
    """The names the sentence names under the noun a list question asks for, in one
    list or several ("the city of Homs … the city of Al Qusayr")."""
    return tuple(item for items in _lists_of_asked(candidate, analysis) for item in items)


def _lists_of_asked(candidate: Candidate, analysis: QuestionAnalysis) -> list[tuple]:
    if analysis.intent != "list" or not analysis.head_noun:
        return []
    asked = _one(analysis.head_noun)
    return [
        items
        for noun, items in listed_under(candidate.hit.text, candidate.entities)
        if _one(noun) == asked and candidate.start <= items[0].start and items[-1].end <= candidate.end
    ]


def _one(noun: str) -> str:
    """A noun in the singular, near enough to compare two ("cities", "city")."""
    noun = noun.lower()
    return noun[:-3] + "y" if noun.endswith("ies") else noun[:-1] if noun.endswith("s") else noun


# A title that says its holder no longer holds it.
_PAST_TITLE = frozenset("former ex-president ex then late outgoing ousted deposed".split())
# How far before a name its title may begin: "Israeli Prime Minister Benjamin Netanyahu".
_TITLE_WORDS = 5


def titled(candidate: Candidate, analysis: QuestionAnalysis, past: bool = False, explicit: bool = False):
    """The person ``candidate`` titles with the role the question asks the holder of,
    or None: "who is the foreign minister?" is answered where a sentence writes
    "Foreign Minister [Gideon Saar]", "Its director-general, [X], said" or "[X], the
    foreign minister", as a reader looks for the title beside a name.

    The title holds the role's last two words ("prime minister"). Its other words
    ("Syrian", "Northwind's") are in the title too, or, when the title has no words of
    its own, anywhere in the passage or the document's title ("Foreign Minister Gideon
    Saar" in a passage about Israeli forces; "Its chief financial officer" in a report
    on Northwind). A title with words of its own ("Israeli Prime Minister …") is another
    role. A "former" title answers only a question that says so ("who was the former …");
    with ``past``, only a "former" title counts (the one who no longer holds the role);
    with ``explicit``, only a title that says whose role it is, as the question does
    ("Syrian Prime Minister [X]" for "who is Syria's prime minister?" and for "who is
    the prime minister of Syria?"; ``_states_owner``)."""
    text = candidate.hit.text
    role = [_stem(w) for w in analysis.role if w not in _WHEN_HELD]
    core = role[-2:]
    context = set(_stems(folded(text))) | set(_stems(folded(candidate.title)))
    asks_past = past or bool(set(folded(analysis.text).split()) & _PAST_TITLE)
    # A name of unknown kind (a model-free tagger's) bearing a person's title is a person.
    for person in (e for e in candidate.entities if e.label in ("PERSON", "NAME")):
        parts = re.split(r"[,.;:“”\"()]", text[candidate.start : person.start])
        before = parts[-1].split()[-_TITLE_WORDS:]
        # "Its director-general, Manfred Seitz, said": the title set off before the name.
        set_off = parts[-2].split()[-_TITLE_WORDS:] if len(parts) > 1 and not parts[-1].strip() else []
        after = re.split(r"[.;:“”\"()]", text[person.end : candidate.end])[0]
        after = after[2:].split()[:_TITLE_WORDS] if after.startswith(", ") else []
        for title in (spelled_out(before), spelled_out(set_off), spelled_out(after)):
            words = folded(" ".join(title)).split()
            is_past = bool(set(words) & _PAST_TITLE)
            if is_past and not asks_past or past and not is_past:
                continue
            stems = [_stem(re.sub(r"[^a-z'-]", "", w)) for w in words]
            if not all(w in stems for w in core):
                continue
            # Its words beyond the role name another one, unless they name what the
            # question does ("Syrian" for "the prime minister of Syria": whose role it is).
            own = [
                w for w in title[: _first_of(stems, core)]
                if w[:1].isupper() and folded(w) not in _TITLE_FUNCTION_WORDS | _PAST_TITLE and _stem(folded(w)) not in role
                and not any(mentions(w, name) for name, _ in analysis.names)
            ]
            # A former holder is one whatever the title's own words ("Former Syrian prime minister").
            if own and not past:
                continue
            if _states_owner(" ".join(title), analysis) if explicit else all(w in stems or w in context for w in role):
                return person
    return None


# Words of a role that say when it is held, not whose it is: no title need repeat them.
_WHEN_HELD = frozenset("current new acting interim present incumbent sitting".split())


def _states_owner(title: str, analysis: QuestionAnalysis) -> bool:
    """The title names whose role it is, as the question does: each word of the role
    before its noun ("Syria's", "Turkish") and each name of the question ("the prime
    minister of Syria"), by any spelling of the name (mentions: "Syrian" for Syria, not
    "Australian" for Austria)."""
    owners = [w for w in analysis.role[:-2] if w not in _WHEN_HELD] + [name for name, _ in analysis.names]
    return all(mentions(title, owner) for owner in owners)


def holds_role(candidate: Candidate, analysis: QuestionAnalysis) -> bool:
    """Whether the sentence titles someone with the asked role, in a passage (or a
    document) holding every other word of the question: then it answers "who is the
    CEO?" however the sentence model scores it, while "who was the prime minister in
    1990?" still needs a passage that says 1990."""
    if titled(candidate, analysis) is None:
        return False
    from rag.lexical import tokenize

    # The verb a role's title is made from ("leads" for "leader") is the role too.
    verbs = [verb for word in analysis.role for verb in AGENT_NOUNS.get(word, ())]
    role = set(tokenize([" ".join(analysis.role + tuple(ROLE_ABBREVIATIONS) + tuple(verbs) + tuple(_WHEN_HELD))])[0])
    asked = set(analysis.keywords) - role
    where = candidate.hit.text + "\n" + candidate.title
    present = set(tokenize([where])[0])
    # A name by any of its spellings: "Syrian" holds "the prime minister of Syria"'s Syria.
    present.update(*(tokenize([name])[0] for name, _ in analysis.names if mentions(where, name)))
    return asked <= present


# Words that begin a title without being part of it ("Its chief financial officer").
_TITLE_FUNCTION_WORDS = frozenset("its his her their our the a an and".split())


def _first_of(stems: list[str], core: list[str]) -> int:
    return min(stems.index(w) for w in core)


# Words compared by their first letters: "Syria" and "Syrian", "minister" and "ministers".
def _stem(word: str) -> str:
    return word[:5]


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z][a-z'-]*", text)]


def overview(
    ranked: list[Candidate], settings: AnswerSettings = ANSWER, analysis: QuestionAnalysis | None = None
) -> list[Quote]:
    """The best sentence of each of the best distinct passages, in their passages' order.

    An overview of something named ("what's the situation in Aleppo?") quotes only
    sentences that name it (or another name of the question): retrieval fills its top
    passages whether or not they are about the name, and a sentence that never names
    it tells the user nothing about it, even where its passage names it elsewhere.
    Names typed in lower case don't count, as in the gate on unmentioned names (they
    may be common nouns). Of a question asking how someone reacted, only the names of
    the one who reacted count.

    Past the first two passages, a topic's overview quotes a passage only when its best
    sentence scores at least ``companion_share`` of the best one, as list and dispute
    quotes must: retrieval always fills its top passages, and one far less likely to be
    about the topic than the best is noise. A day's overview is exempt: its passages are
    the day's most central ones, which no question's words score."""
    names = [name for name, _ in analysis.names if not name.islower()] if analysis is not None else []
    subject = stance_subject(analysis.text) if analysis is not None else None
    if subject is not None:
        # How someone reacted is told by sentences naming them, not others of the topic:
        # "how did Iran react to Assad's fall?" quotes Iran, not every sentence on Assad.
        # One written as an adjective ("European countries") is named by its countries.
        names = [
            name for name, label in analysis.names
            if name in subject and not name.islower() and not modifier_name(analysis.text, name, label)
        ]
    chosen = [c for c in ranked if not names or any(mentions(c.text, name) for name in names)]
    return _best_per_passage(chosen, settings, floor=analysis is not None and analysis.intent == "overview")


def _best_per_passage(ranked: list[Candidate], settings: AnswerSettings, floor: bool) -> list[Quote]:
    """The best sentence of each passage among ``ranked`` (best first), in the passages'
    order, at most ``overview_passages``; with ``floor``, past the first two only those
    scoring at least ``companion_share`` of the best."""
    best_of: dict[int, Candidate] = {}
    for candidate in ranked:
        best_of.setdefault(candidate.hit.chunk_id, candidate)
    ordered = sorted(best_of.values(), key=lambda c: c.hit.rank)
    if floor and ordered:
        least = settings.companion_share * max(c.probability for c in ordered)
        ordered = ordered[:2] + [c for c in ordered[2:] if c.probability >= least]
    return [Quote(c, c.start, c.end) for c in ordered[: settings.overview_passages]]


# Verbs that report speech, in any tense: where a text gives what someone said.
_SPEECH_WORD = re.compile(
    r"\b(?:say|says|said|tells?|told|writes?|wrote|added|stated|noted|announce[sd]?|"
    r"claim(?:s|ed)?|insist(?:s|ed)?|explain(?:s|ed)?|argue[sd]?|declare[sd]?|tweet(?:s|ed)?|warn(?:s|ed)?|"
    r"stress(?:es|ed)?|urge[sd]?|acknowledge[sd]?|welcome[sd]?|condemn(?:s|ed)?|den(?:y|ies|ied)|"
    r"confirm(?:s|ed)?|according to|statement|spokes(?:man|woman|person))\b",
    re.I,
)
# Those verbs, or a quotation mark.
_REPORTS_SPEECH = re.compile(r"[“”\"]|" + _SPEECH_WORD.pattern, re.I)


def statements(ranked: list[Candidate], settings: AnswerSettings, analysis: QuestionAnalysis) -> list[Quote]:
    """What the question's speaker said ("what did the UN envoy say?"): the best sentence
    of each of the best distinct passages that names the speaker and reports speech, in
    the passages' order. A speaker says several things over a story, often as much to the
    point as each other, so no one sentence stands out as the answer: like an overview,
    it is quoted below the threshold. And a sentence that names the speaker but reports
    nothing said ("… fled to Jordan" for "what did Jordan say?") is not what was asked,
    however confident the sentence model. Past the first two passages the
    ``companion_share`` floor holds, as for overviews. Nothing when the question names no
    speaker."""
    names = speakers(analysis)
    if not names:
        return []
    chosen = [c for c in ranked if _REPORTS_SPEECH.search(c.text) and spoken_by(c.text, names)]
    return _best_per_passage(chosen, settings, floor=True)


# Verbs of speech that the speaker may follow ("…,” said the minister; according to
# the ministry; a spokesman, Dmitry Peskov). Other verbs of speech take what is spoken
# of as their object ("Qatar condemned Israel"): a name after those is no speaker.
_SPEAKER_MAY_FOLLOW = re.compile(
    r"\b(?:says?|said|added|wrote|stated|noted|according to|statements?|spokes(?:man|woman|person))\b"
)
# How far past such a word its speaker may stand: "said Foreign Minister Hakan Fidan".
_SPEAKER_REACH = 3


def spoken_by(sentence: str, names: list[str]) -> bool:
    """Whether ``sentence`` reports something said by one of ``names``, as news writes
    it, outside any quotation:

    - an attribution set off by a comma or a closing quotation mark ("…, a White House
      official has told journalists.", "…,” said X.", "…, local media claim, …") names
      the speaker inside it; what stands before it is what was said;
    - else the speaker stands before the first verb of speech ("X said …", "X told
      reporters …") or just after one that its speaker may follow ("according to X",
      but not "added that X …").

    A name elsewhere is part of what someone else said ("the source told the agency
    that … Trump …"; "Reports that Assad … are untrue, an official said"): the sentence
    names it but reports nothing of its words. Quotation marks alone attribute nothing
    (scare quotes: "designated X as a “global terrorist”")."""
    text = folded(sentence)
    verbs = list(_SPEECH_WORD.finditer(text))
    if not verbs:
        return False
    clause = next(filter(None, (_set_off_attribution(text, verb) for verb in verbs)), None)
    for name in names:
        for at in mention_starts(sentence, name):
            if _quoted(text, at):
                continue
            if clause is not None:
                if clause[0] < at < clause[1]:
                    return True
                continue
            if at < verbs[0].start():
                return True
            if any(
                verb.end() <= at and _speaker_next(text[verb.end() : at])
                for verb in _SPEAKER_MAY_FOLLOW.finditer(text, 0, at)
            ):
                return True
    return False


def _speaker_next(between: str) -> bool:
    """Whether a name after a verb of speech, with ``between`` them, is its speaker:
    close to it ("said Foreign Minister X"), not after "that" (what was said)."""
    words = between.split()
    return len(words) <= _SPEAKER_REACH and "that" not in words


# An attribution set off by commas is short: up to this many words before its verb
# ("a senior White House official has told") and after it ("told journalists on Monday").
_CLAUSE_BEFORE, _CLAUSE_AFTER = 7, 4


def _set_off_attribution(text: str, verb: re.Match) -> tuple[int, int] | None:
    """Where the attribution around ``verb`` begins and ends, when it is set off from
    what was said: after a comma or closing quotation mark, and running to the end of
    the sentence or to the next comma."""
    opening = max(text.rfind(",", 0, verb.start()), text.rfind("”", 0, verb.start()))
    if opening < 0 or len(text[opening + 1 : verb.start()].split()) > _CLAUSE_BEFORE:
        return None
    comma = text.find(",", verb.end())
    closing = comma if comma >= 0 else len(text)
    if len(text[verb.end() : closing].split()) > _CLAUSE_AFTER:
        return None
    return opening, closing


def _quoted(text: str, at: int) -> bool:
    """Whether offset ``at`` of ``text`` lies inside a quotation."""
    before = text[:at]
    return before.count("“") > before.count("”") or before.count('"') % 2 == 1
