"""What a question asks for, worked out once and passed to every later stage.

The expected answer type follows English question words, mapped to the entity
labels of the tagger (spaCy's): who → a person, organisation or group; where → a
place; when → a date; how many → a number; "which <noun>" → the label that noun
names. Names in the question are found by looking them up among the names the
index holds, so "who granted assad asylum?" finds Assad without capital letters.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from rag.dates import asked_days
from rag.entities import Gazetteer, entity_key, same_marks
from rag.lexical import fold, tokenize

Intent = Literal["fact", "list", "when", "count", "overview", "day"]

PEOPLE = frozenset({"PERSON", "ORG", "NORP"})
# "Who" also asks for a country: states act as agents in news and history ("Russia
# granted asylum", "France declared war"), and the tagger labels them places.
WHO = PEOPLE | {"GPE"}
PLACES = frozenset({"GPE", "LOC", "FAC"})
DATES = frozenset({"DATE", "TIME"})
AMOUNTS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})

# The label a head noun names ("which country" → GPE). General English, not any corpus.
_NOUN_LABELS: dict[str, frozenset[str]] = {}
for _labels, _nouns in [
    (frozenset({"PERSON"}), "person man woman leader president minister official spokesman spokeswoman "
     "spokesperson envoy ambassador commander general king queen prince princess politician diplomat author "
     "secretary director-general secretary-general officer "
     "writer scientist player actor actress singer founder ceo chief ruler emperor pope governor mayor "
     "senator candidate journalist reporter artist composer director premier chancellor monarch"),
    (frozenset({"ORG", "NORP"}), "group organization organisation company party agency militia army faction "
     "movement government ministry department newspaper channel network broadcaster outlet university school "
     "team club band airline bank firm institution coalition alliance union council court committee rebels "
     "force forces"),
    (frozenset({"GPE", "LOC"}), "country nation state city town village capital province region district "
     "county territory place location area"),
    (frozenset({"LOC"}), "river mountain sea lake ocean continent island valley border desert"),
    (frozenset({"FAC", "GPE", "LOC"}), "airport base building prison bridge port stadium palace embassy "
     "hospital road street airfield facility crossing checkpoint square"),
    # A building or the body that runs it: "which hotel" may ask for a chain, "which
    # church" for a denomination.
    (frozenset({"FAC", "GPE", "LOC", "ORG"}), "camp church hotel mosque"),
    (frozenset({"NORP"}), "nationality religion ethnicity"),
    (frozenset({"DATE", "TIME"}), "year day date month decade century week season period era time hour"),
    (frozenset({"MONEY"}), "price cost sum budget salary fee revenue profit income turnover earnings money"),
    (frozenset({"PERCENT"}), "percentage percent rate"),
    (frozenset({"QUANTITY", "CARDINAL"}), "distance weight height length size number amount total"),
    (frozenset({"LANGUAGE"}), "language"),
    (frozenset({"EVENT"}), "war battle event"),
    (frozenset({"WORK_OF_ART"}), "book film movie song album novel painting"),
    (frozenset({"LAW"}), "law treaty act constitution"),
    (frozenset({"PRODUCT"}), "aircraft plane car weapon missile product device"),
]:
    for _noun in _nouns.split():
        _NOUN_LABELS[_noun] = _labels
# People by their occupation or part in events, as questions name them ("which professor
# …", "which analyst …"). Most of these also modify other nouns ("victim support groups",
# "a pilot program", "an expert panel"): before another noun they are no head (_head_noun).
_OCCUPATIONS = frozenset(
    """professor academic scholar analyst expert researcher economist historian lawyer attorney judge
    prosecutor doctor physician surgeon teacher activist cleric imam priest bishop rabbi soldier colonel
    captain lieutenant admiral pilot editor correspondent columnist commentator lawmaker legislator
    chairman chairwoman adviser advisor aide negotiator mediator businessman businesswoman entrepreneur
    engineer inventor philosopher poet painter musician athlete coach witness suspect victim""".split()
)
_NOUN_LABELS.update(dict.fromkeys(_OCCUPATIONS, frozenset({"PERSON"})))


# What "what is the …" asks the value of ("what is the price of oil?" asks a sum, as
# "which price …?" would): amounts, shares and times, whose nouns have no other sense
# there, and a few nouns of sums and counts that "which" would ask in another sense
# ("which population …?" asks a people). The nouns of names are left out: "the state of
# the economy", "the force of gravity" ask no state and no force.
_VALUE_NOUNS: dict[str, frozenset[str]] = {
    **{noun: labels for noun, labels in _NOUN_LABELS.items() if labels <= AMOUNTS | DATES},
    **dict.fromkeys(("bounty", "reward", "fine", "ransom", "wage", "tax"), frozenset({"MONEY"})),
    **dict.fromkeys(("population", "toll"), frozenset({"CARDINAL"})),
}
_WHAT_IS_THE = re.compile(
    r"^\s*what(?:'s|’s|\s+(?:is|was|will be|would be))\s+the\s+(?:[a-z-]+\s+)?([a-z-]+)"
    r"(?=\s+(?:of|on|for|in|at|to|from|paid|offered)\b|\s*[?.!]*$)"
)


def _singular(noun: str) -> str:
    for plural, singular in (("ies", "y"), ("ses", "s"), ("es", "e"), ("s", "")):
        if noun.endswith(plural) and noun[: -len(plural)] + singular in _NOUN_LABELS:
            return noun[: -len(plural)] + singular
    return noun


# "list the countries that …", "name all the groups …": the noun after the request is the head.
_LIST_NOUN = re.compile(r"^\s*(?:list|name|enumerate)\s+(?:(?:all|the|every|each)\s+)*((?:[a-z-]+\s+){0,2}?)([a-z-]+)\b")
# "What did the UN say?", "what was said about …": asks for what was said, a statement,
# which no few words of a sentence hold.
_ASKS_STATEMENT = re.compile(
    r"^\s*what\s+(?:did|does|do|has|have|had|will|would|was|were|is|are)\b.*?\b(say|says|said|tell|told|"
    r"announced?|claim(?:ed)?|reported|stated|warn(?:ed)?|write|wrote|argued?|reply|replied)\b",
    re.I,
)
# "What did the council do?", "what did she urge them to do (next)?", "what has the
# bank done?", "what is the army doing?": a deed, which a clause says; no name or
# number of the sentence answers it. "Done" only after "has", "doing" only after "is"
# ("what was the damage done?" asks for an amount).
_ASKS_ACTION = re.compile(
    r"^\s*what\s+(?:(?:did|does|do|will|would|should|could|can)\b.*\bdo|(?:has|have|had)\b.*\bdone|"
    r"(?:is|are|was|were)\b.*\bdoing)\b",
    re.I,
)
# Nouns of a part of a place ("the outskirts of Homs").
PLACE_PARTS = frozenset(
    "part parts area areas outskirts suburb suburbs edge edges heart centre center countryside".split()
)
# Prepositions that put what follows them as a place: "near Damascus", "in the north",
# also through a part of it: "in the northern part of Syria", "on the outskirts of Homs".
AT_A_PLACE = re.compile(
    r"\b(?:(?:in|at|near|outside|inside|within|around|across|throughout|into|towards?)"
    r"(?:\s+the(?:\s+[a-z-]+)?\s+(?:" + "|".join(sorted(PLACE_PARTS)) + r")\s+of)?|"
    r"(?:north|south|east|west)(?:ern)?(?:-?(?:east|west)(?:ern)?)? of)\s+(?:the\s+)?$",
    re.I,
)
# "which Scandinavian countries …", "what rebel group …": up to three words after the
# question word, up to the first word that can't be part of its noun phrase (a verb of
# the question, an article, a preposition); the head is the first of them that names a
# kind of thing ("group" in "which rebel group took …"): a later one is more often the
# question's verb ("what force acts …") than a second noun. A possessive modifies the
# noun after it ("which country's leader" asks for a person), so it is passed over.
_WHICH_PHRASE = re.compile(r"\b(?:which|what)\s+(?:(?:of\s+the|two|three|other)\s+)?((?:[a-z’'-]+\s*){1,3})")
_ENDS_NOUN_PHRASE = frozenset(
    """is are was were be been am do does did has have had will would can could should shall may might must
    the a an of in on at to for by from with about as than that this these those among amongst between
    during after before into over under through within without against near via per""".split()
)
# "what made the country vulnerable?", "what caused the war?": a verb right after the
# question word makes "what" the subject; the nouns after it are not its kind.
_VERB_AFTER_WH = re.compile(
    r"^(?:caused|happened|allowed|prompted|helped|forced|started|ended|changed|created|produced|destroyed|"
    r"included|called|remained|occurred|resulted|triggered|killed|built|made|makes?|led|leads|took|takes|"
    r"gave|gives|kept|keeps|became|becomes|brought|brings|causes|happens|helps|drove|drives|went|goes|"
    r"came|comes|got|gets|said|says|told|tells|won|wins|lost|began|begins)$"
)
# People ask for an overview politely as often as not ("can you summarize …", "I'd like
# to know about …"): the request is what follows the courtesy.
_COURTESY = r"(?:(?:please|can you|could you|would you|will you|i(?:'d| would) like to|i want to)\s+)?"
_OVERVIEW = re.compile(
    r"^\s*" + _COURTESY + r"(?:tell me (?:more )?about|what do (?:we|you) know about|what is known about|summari[sz]e|"
    r"(?:know|learn|hear|read) (?:more )?about|"
    r"give (?:me )?(?:an? )?(?:overview|summary|rundown|update|briefing) (?:of|on|about)|(?:an? )?(?:overview|summary|rundown) of|"
    r"what(?:'s| is) (?:the )?(?:latest|news) (?:on|about|in|with|from)|"
    r"what(?:'s| is| are) (?:happening|going on) (?:in|with|to|at|around)|what(?: has)? (?:happened|went on|was going on|took place|occurred) (?:in|to|at|around)|what(?:'s| is) the situation (?:in|with|at|around)|"
    r"(?:catch|fill) me (?:up on|in on)|(?:brief|update) me (?:on|about)|describe|explain)\b",
    re.I,
)
# How someone took something is told over several reports, as a topic is: "how did Iran
# react to …?", "what was Iran's response to …?", "what has Turkey been saying?". The
# one who reacts stays in the topic.
# Reactions to what happened are told in the past or the perfect: "how does the API
# respond to …?" asks how something works, a fact. A response must be someone's ("Iran's
# response to", not "the two integer responses to a problem"), and in the present only a
# stance or position is one ("what is the EU's position on …?", not "the server's
# response to a request").
_STANCE = re.compile(
    r"^\s*(?:how (?:did|has|have|was|were) (?P<a>.{1,60}?) (?:react|respond|reacting|responding|reacted|responded)\b"
    r"|what (?:was|were|has been|have been) (?P<b>[^?]{1,40}?[’']s?(?: [a-z]+)?) (?:reactions?|responses?|stance|position) (?:to|on|towards?|about)\b"
    r"|what (?:is|are) (?P<e>[^?]{1,40}?[’']s?(?: [a-z]+)?) (?:stance|position) (?:to|on|towards?|about)\b"
    r"|what (?:has|have|had) (?P<c>.{1,60}?) been (?:saying|doing)\b"
    r"|what (?:is|are|was|were) (?P<d>(?!(?:the|a|an) saying\b).{1,60}?) saying\b)",
    re.I,
)


def _stance_group(match: re.Match) -> str:
    """Who reacted, in whichever of ``_STANCE``'s forms matched."""
    return next((group for group in match.groups() if group), "")


# "what went on" asks what happened only before where or when, or alone: "what went on
# sale" asks something else.
_THEN_WHERE_OR_WHEN = r"(?=\s+(?:on|in|at|during|around|across|inside|over|between|with|to|yesterday|today|last)\b|\s*[?.!]*$)"
# "what happened", "what was reported", "news from …": with a day named, an overview of that day.
_HAPPENED = re.compile(
    r"\b(?:what (?:happened|went on" + _THEN_WHERE_OR_WHEN + r"|was going on|took place|occurred|"
    r"was (?:reported|said|announced)|"
    r"were the (?:main )?(?:events|developments|news)|"
    r"is reported|news)|news|events|developments|(?:the )?(?:main )?headlines)\b",
    re.I,
)
# Up to five words with no question word, no auxiliary or request to start them, no
# question mark and no preposition left open at the end ("Telnet was sold to" is a
# question with a gap): search-box keywords, when some word of them is not a common one
# ("no", "this" are replies, not topics).
_KEYWORDS_ONLY = re.compile(
    r"^(?!.*\?)(?!\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|"
    r"might|must|tell|list|name|give|show|find|explain|describe|summari[sz]e)\b)"
    r"(?!.*\b(?:who|whom|whose|what|which|when|where|why|how)\b)"
    r"(?!.*\b(?:to|by|of|in|on|for|from|with|as|at|about|is|was|were|are)\W*$)"
    r"\s*[\w’'.-]+(?:\s+[\w’'.-]+){0,4}\s*$",
    re.I,
)
# What people type between questions in a chat: replies, not topics.
_REPLIES = frozenset(
    "ok okay thanks thank you yes yeah yep no nope great cool nice hmm hm hi hello hey bye please sure fine good "
    "wow interesting right alright got it".split()
)
_LIST = re.compile(r"^\s*(?:list|name (?:all|the|every)|enumerate)\b", re.I)
_FOLLOW_UP_START = re.compile(r"^\s*(?:and|what about|how about|also)\b", re.I)
# "why?", "when?", "how many?": a question word and nothing else asks it of the last turn.
BARE_QUESTION_WORD = re.compile(
    r"^\s*(?:why|when|where|how(?: (?:many|much|long|so))?|who|since when"
    r"|(?:by|for|with|from|to|against|until|till|since|after|before|of)\s+(?:whom|who|what|where|when))\s*[?.!]*\s*$",
    re.I,
)
# English moves a question word's preposition to the front with it ("by whom was it
# built?", "since when …"): what is asked is the same.
_FRONTED = r"(?:(?:by|for|with|from|to|against|until|till|since|after|before|of)\s+)?"
# Short English words that are also acronyms (US, UN, IT): only in capitals are they names.
_COMMON_SHORT_WORDS = frozenset("us un it am as at in on or an me we so no id is be do go up".split())
PRONOUNS = frozenset("he him his she her hers they them their theirs it its there".split())
# "the group", "the man": a definite noun of a general kind, in a question that names
# nothing, points back to what the conversation named, as a pronoun does.
# Not one that a clause or phrase defines ("the man who shot …", "the country with …").
BACK_REFERENCE = re.compile(
    r"\bthe (group|organi[sz]ation|movement|militia|man|woman|person|country|city|town)\b"
    r"(?!\s+(?:who|whom|whose|that|which|where|with|of|in|from|at|on)\b)",
    re.I,
)
# These point back to someone even in a question that names other things ("what did he
# write on Telegram?"); "it" and "there" often point nowhere ("is it true …", "is there …").
_PERSONAL_PRONOUNS = frozenset("he him his she her hers they them their theirs".split())
# "is there", "are there": existential, not a place.
EXISTENTIAL_THERE = re.compile(r"\b(?:is|are|was|were|be|been)\s+there\b|\bthere\s+(?:is|are|was|were|has|have)\b", re.I)

_ASKING_WORDS = frozenset(
    """what which who whom whose where when why how many much did does do was were is are the a an of in on
    at to for by from with about tell me give summarize summarise overview describe explain list name""".split()
)


@dataclass(frozen=True)
class QuestionAnalysis:
    """A question, read once: what it asks, the names and days it mentions."""

    text: str
    intent: Intent
    expected: frozenset[str]  # entity labels an answer should hold; empty: anything
    names: tuple[tuple[str, str], ...]  # (name as written, label; "NAME" when unknown)
    dates: tuple[str, ...]  # ISO days the question names
    keywords: tuple[str, ...]  # folded, stemmed words, without stopwords and question words
    topic: str  # the question without asking words and days: what an overview is about
    head_noun: str | None = None  # "group" in "which group …"
    follow_up: bool = False  # leans on an earlier turn: a pronoun with no name, "and …?"
    asks_statement: bool = False  # asks what was said ("what did the UN say?"): no short answer
    asks_action: bool = False  # asks what was done ("what did Israel do?"): no short answer
    role: tuple[str, ...] = ()  # "who is the prime minister?" asks who holds ("prime", "minister")
    counted: str | None = None  # the stem of what "how many" counts: "fighter" in "how many fighters died?"
    # Names the conversation already gave that the question sets itself against ("which
    # group did he lead before?" after "who leads HTS?": not HTS): never its answer.
    excluded: tuple[str, ...] = ()

    @property
    def plural(self) -> bool:
        return self.intent == "list"


def analyze(question: str, gazetteer: Gazetteer | None = None, known_dates: "frozenset[str] | set[str]" = frozenset()) -> QuestionAnalysis:
    """Read ``question`` once.

    >>> analyze("How many Syrians fled?").intent
    'count'
    """
    text = " ".join(question.split())
    lowered = text.lower()
    dates = asked_days(text, known_dates)
    names = _names(text, gazetteer, [(s, e) for _, s, e in dates])
    # What is asked is read off the asking part; names, days and keywords off the whole.
    asked = asked_part(text)
    asked_lowered = asked.lower()
    head = _head_noun(asked_lowered)
    expected = _expected(asked_lowered, head)
    intent = _intent(asked_lowered, head, bool(dates))
    if intent == "day" or (intent == "fact" and dates and _HAPPENED.search(lowered)):
        intent = _intent(lowered, head, bool(dates))  # "On 8 December, what happened?"
    if intent == "when":
        expected = DATES
    role = _role(asked) if intent == "fact" else ()
    # A role asked by its initials is asked by the title's words, which passages write.
    keywords = _keywords(_roles_spelled_out(text, any_case=bool(role)))
    topical = any(w not in _REPLIES for w in re.findall(r"[a-z]+", lowered))
    if _only_names(text, names) or (intent == "fact" and keywords and topical and _KEYWORDS_ONLY.match(text)):
        # "Who is Marie Curie?", "What is UNESCO?" ask to be told about what they name,
        # not for another name: an overview of it, like "tell me about …". So do a few
        # words typed as into a search box ("golan buffer zone"): a topic, not a question.
        intent, expected = "overview", frozenset()
    words = [w for w in re.findall(r"[a-z0-9’'-]+", lowered)]
    return QuestionAnalysis(
        text=text,
        intent=intent,
        expected=expected,
        names=tuple(names),
        dates=tuple(d for d, _, _ in dates),
        keywords=keywords,
        topic=_topic(text, dates),
        head_noun=head,
        role=role if intent == "fact" else (),
        counted=_counted(asked),
        asks_statement=intent == "fact" and not expected and bool(_ASKS_STATEMENT.match(text)),
        asks_action=intent == "fact" and not expected and bool(_ASKS_ACTION.match(asked)),
        follow_up=bool(_FOLLOW_UP_START.match(text) or BARE_QUESTION_WORD.match(text))
        or any(w in _PERSONAL_PRONOUNS for w in words)
        or ((any(w in PRONOUNS for w in words) or BACK_REFERENCE.search(text) is not None) and not names)
        or _there_without_a_place(text, names),
    )


_WH = r"(?:who|whom|whose|what|which|where|when|why|how)\b"
_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)\b"
# A phrase or clause set before the question ("After Assad fell, who …?", "In 2013,
# which …?", "When the US listed him, was he …?"): what is asked follows its comma.
# It opens as adverbials do, with a preposition, a subordinating word or an adverb:
# "Assad, who ruled for 24 years, fled where?" opens with the subject and its clause.
_OPENERS = (
    r"(?:in|on|at|after|before|during|since|by|for|of|among|along|besides|apart|aside|according|under|within|"
    r"given|despite|upon|following|as|if|when|while|once|unlike|like|compared|beyond|without|through|"
    r"throughout|across|over|near|from|to|with|except|other than|around|between|prior|currently|today|"
    r"now|then|later|earlier|meanwhile|back|[a-z]+ly)\b"
)
_LEADING_PHRASE = re.compile(r"^(?=" + _OPENERS + r")(?!\s*(?:" + _WH + "|" + _AUX + r"))[^,?]{2,80},\s*(?=" + _WH + ")", re.I)
# (A clause that opens with "when" is no question of its own when no auxiliary follows
# it: "When the US listed him, which group …?", not "When did he leave, and why?".)
_LEADING_CLAUSE = re.compile(
    r"^(?:when|after|before|while|since|once|if|as soon as|now that|given that)\s+(?!" + _AUX + r")[^,?]{2,80},\s*"
    r"(?=" + _WH + "|" + _AUX + ")",
    re.I,
)
# A question asked inside another ("did he say who made the call?", "do you know where
# …", "can you tell me when …"): the inner one is what is asked.
_INDIRECT = re.compile(
    r"^(?:(?:do|does|did|can|could|would|will)\s+(?:you|we|anyone|someone|they|he|she|it|the\s+[\w’'-]+|"
    r"[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*){0,3})\s+(?:know|say|said|tell(?:\s+(?:me|us))?|mention|reveal|"
    r"specify|report|confirm|remember)|(?:please\s+)?tell\s+me|i(?:'d|’d| would) like to know|i wonder|any idea)\s+(?=" + _WH + ")",
    re.I,
)
# A statement with the question after it ("Israel's foreign minister said so - what's his
# name?"), set off by a dash, a colon or a semicolon: after a comma, "which is …" is a
# relative clause of the statement.
_TRAILING_ASK = re.compile(r"(?:\s+[-–—]\s*|[;:]\s+)(" + _WH + r"[^-–—;:]*\?)\s*$", re.I)


def asked_part(text: str) -> str:
    """The part of ``text`` that asks: without a phrase or clause set before the question
    word, the words a question is asked inside of, or a statement before it.

    >>> asked_part("After Assad fell, who took control of Damascus?")
    'who took control of Damascus?'
    """
    for pattern in (_LEADING_PHRASE, _LEADING_CLAUSE, _INDIRECT):
        match = pattern.match(text)
        if match is not None:
            return text[match.end() :]
    if not re.match(r"^\s*(?:" + _WH + "|" + _AUX + ")", text, re.I):
        trailing = _TRAILING_ASK.search(text)
        if trailing is not None:
            return trailing.group(1)
    return text


# A nationality or a region as an adjective before a noun of a kind ("European
# countries", "Asian leaders", "Nordic states"): it narrows what is asked rather than
# naming who is, and passages say it by the countries they name ("Germany and
# Austria"), which no variant of the word matches. A name before a verb keeps the rule
# ("What did Jordan say?", "What did Tehran announce?").
# (Endings of adjectives, not of names: "-an" alone ends Taliban, Pakistan and Erdogan too.)
_ADJECTIVE_ENDING = re.compile(r"(?:ean|ian|can|ese|ish|ic|i)$")


def modifier_name(question: str, name: str, label: str) -> bool:
    """Whether ``name`` stands in ``question`` as a region's or nationality's adjective."""
    if label not in ("NAME", "NORP") or " " in name or not _ADJECTIVE_ENDING.search(name):
        return False
    after = re.search(r"\b" + re.escape(name) + r"\s+([a-z]+)", question)
    return after is not None and noun_labels(after.group(1)) is not None


def stance_subject(text: str) -> str | None:
    """Who a question asks the reaction of ("how did [Iran] react …?"), or None."""
    match = _STANCE.match(asked_part(text))
    return None if match is None else _stance_group(match)


def said_about(analysis: QuestionAnalysis) -> str:
    """What a statement question asks was said about: its words after the verb of
    speech ("what did the UN say [about the curfew]?"), "" for none."""
    match = _ASKS_STATEMENT.match(analysis.text) if analysis.asks_statement else None
    return analysis.text[match.end() :] if match is not None else ""


def speakers(analysis: QuestionAnalysis) -> list[str]:
    """The names a statement question asks the words of: those before its verb of speech
    ("what did [the UN envoy] say about Syria?"). Names typed in lower case don't count."""
    match = _ASKS_STATEMENT.match(analysis.text) if analysis.asks_statement else None
    if match is None:
        return []
    return [name for name, _ in analysis.names if not name.islower() and 0 <= analysis.text.find(name) < match.start(1)]


def _there_without_a_place(text: str, names: list[tuple[str, str]]) -> bool:
    """ "there" for a place ("how many Syrians live there?") in a question that names
    none: it points to a place named earlier, whatever else the question names. A
    name of unknown kind might be that place, so it doesn't count as a follow-up then."""
    return (
        re.search(r"\bthere\b", text, re.I) is not None
        and not EXISTENTIAL_THERE.search(text)
        and not any(label in PLACES or label == "NAME" for _, label in names)
    )


def noun_labels(noun: str) -> frozenset[str] | None:
    """The entity labels a noun names ("countries" → GPE, LOC), or None for other nouns."""
    return _NOUN_LABELS.get(_singular(noun.lower()))


def _keywords(text: str) -> tuple[str, ...]:
    """The words a sentence must share to be about the question: stemmed, without the
    common English words of a full stopword list ("now", "still", "also" say nothing of
    the topic; retrieval keeps its shorter list, which BM25's IDF already discounts)."""
    common = _common_words()
    words = [w for w in re.findall(r"[\w’'-]+", text) if fold(w) not in common]
    return tuple(dict.fromkeys(tokenize([" ".join(words)])[0]))


@functools.lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    from rag.lexical import STOPWORDS_EN_PLUS  # NLTK's English list

    return frozenset(STOPWORDS_EN_PLUS)


# Plurals that don't end in -s, as "how many" asks them.
_IRREGULAR_PLURALS = frozenset(
    {"people", "men", "women", "children", "police", "personnel", "staff", "cattle", "aircraft", "sheep", "fish", "deer"}
)


# "how many [more] [Syrian refugees does …]": the words that may say what is counted,
# after words that only narrow it.
_HOW_MANY = re.compile(
    r"\bhow many\s+((?:more|other|of\s+(?:the|those|these|its|their|his|her))\s+)?((?:[\w’'-]+\s*){1,5})", re.I
)


def _counted(text: str) -> str | None:
    """The stem of the noun "how many" counts, or None ("how many died?"): the last word
    of the first run of plurals after it ("how many isis [fighters] were killed", "how
    many [Syrians] Turkey hosts"). A number answers only if it counts that: "dozens of
    airstrikes" does not say how many fighters. A name in capitals ("ISIS") is no plural."""
    match = _HOW_MANY.search(text)
    if match is None:
        return None
    plural = None
    for word in match.group(2).split():
        lowered = word.lower()
        if lowered in _common_words() or (plural and not _plural(word)):
            break
        if _plural(word):
            plural = lowered
    stems = tokenize([plural])[0] if plural else []
    return stems[0] if stems else None


def counted_phrase(analysis: "QuestionAnalysis") -> set[str]:
    """The stems of what "how many" counts, its words before the noun too: {"syrian",
    "refuge"} in "how many Syrian refugees …?"."""
    match = _HOW_MANY.search(analysis.text)
    if match is None or analysis.counted is None:
        return set()
    stems: set[str] = set()
    for word in f"{match.group(1) or ''} {match.group(2)}".split():
        stems.update(tokenize([word])[0])
        if analysis.counted in stems:
            return stems
    return {analysis.counted}


def _plural(word: str) -> bool:
    lowered = word.lower()
    if word.isupper() and len(word) > 1:
        return False  # an acronym
    return (lowered.endswith("s") and not lowered.endswith("ss")) or lowered in _IRREGULAR_PLURALS


# "what is the name of the [Russian envoy] …": the thing whose name is asked.
_NAME_OF = re.compile(r"\bwhat(?:'s|’s| is| was) the name of (?:the |a |an |this |that )?((?:[a-z’'-]+\s*){1,3})")


def _head_noun(lowered: str) -> str | None:
    name_of = _NAME_OF.search(lowered)
    if name_of is not None:
        for word in name_of.group(1).split():
            if word in _ENDS_NOUN_PHRASE:
                break
            if _singular(word) in _NOUN_LABELS:
                return word
    # "what type of aircraft", "which kind of weapons": the noun after "of" is the head.
    lowered = re.sub(r"\b(which|what)\s+(?:type|kind|sort|form|make|model|brand)s?\s+of\s+", r"\1 ", lowered)
    match = _WHICH_PHRASE.search(lowered)
    if match is not None:
        phrase = []
        words = match.group(1).split()
        if _VERB_AFTER_WH.match(words[0]):
            return None
        for word in words:
            if word in _ENDS_NOUN_PHRASE:
                break
            phrase.append(word)
        kinds = [i for i, w in enumerate(phrase) if not re.search(r"['’]s?$", w) and _singular(w) in _NOUN_LABELS]
        if kinds:
            head = kinds[0]
            # "army commander", "city council": a noun right after a singular one is the
            # head of a compound. One ending in -s may be the question's verb ("what force
            # acts …"): it is taken only when it names the same kind ("militia groups"),
            # which a verb would not. After a plural ("which countries border …") the next
            # word is the verb.
            while (
                head + 1 in kinds
                and _singular(phrase[head]) == phrase[head]
                and (not phrase[head + 1].endswith("s") or noun_labels(phrase[head + 1]) == noun_labels(phrase[head]))
            ):
                head += 1
            if _singular(phrase[head]) in _OCCUPATIONS and head + 1 < len(phrase) and not _verb_like(phrase[head + 1]):
                return None  # "which victim support groups …": a modifier, of a noun of no known kind
            return phrase[head]
    match = _LIST_NOUN.match(lowered)
    if match is None:
        return None
    for word in (match.group(2), *reversed(match.group(1).split())):
        if _singular(word) in _NOUN_LABELS:
            return word
    return None


def _verb_like(word: str) -> bool:
    """Whether a question's word after a noun may be its verb ("which analyst [said]",
    "which expert [warns]"), not a noun it modifies ("which expert [panel]")."""
    return bool(_VERB_AFTER_WH.match(word)) or re.search(r"(?:ed|s)$", word) is not None


def _only_names(text: str, names: list[tuple[str, str]]) -> bool:
    """ "Who is/was <a name>?", "What is <a name>?" and nothing more."""
    match = re.match(r"^\s*(?:who|what)(?:\s+(?:is|was|are|were)|'s|’s)\s+(.+?)[\s?.!]*$", text, re.I)
    if match is None:
        return False
    rest = re.sub(r"^(?:the|a|an)\s+", "", match.group(1), flags=re.I)
    return any(fold(rest) == fold(name) for name, _ in names)


# "who is the prime minister?", "who was the leader of the group in 1960?": a
# who-question about a role asks for the person holding it. Not when a verb follows
# ("who was the king ranked above?"): then the role is the subject, and who the object.
_WHO_HOLDS = re.compile(
    r"^\s*who(?:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+(?:the|a|an|(?P<owner>[a-z][\w-]*)(?:'s|’s))\s+"
    r"(?P<words>(?:[a-z’'-]+\s+){0,3}?)(?P<noun>[a-z-]+)(?:\s*\??\s*$|\s+(?:of|in|at|for)\b(?P<rest>.*))"
)


# Roles written as their initials, which documents spell out ("Chief executive officer X")
# or not ("Syrian PM X"): either way it is the same title. Initials with more than one
# common sense as a title are left out ("FM": foreign or finance minister, field marshal).
ROLE_ABBREVIATIONS = {
    "ceo": "chief executive officer",
    "cfo": "chief financial officer",
    "coo": "chief operating officer",
    "cto": "chief technology officer",
    "pm": "prime minister",
    "vp": "vice president",
}
_INITIALS = re.compile(r"(?<![\w’'-])(" + "|".join(ROLE_ABBREVIATIONS) + r")(?![\w’'-])", re.I)
# "at 8 PM", "8:30 pm": after a number, "PM" is the time of day.
_AFTER_A_NUMBER = re.compile(r"\d\s*$")


def spelled_out(words: list[str]) -> list[str]:
    """Title words with a role written in capital initials spelled out ("Syrian PM" →
    "Syrian Prime Minister"). Only capitals, and not after a number: "8 PM" and "pm" in
    lower case are as often the time."""
    out: list[str] = []
    for word in words:
        bare = word.strip(",.;:")
        if bare.isupper() and bare.lower() in ROLE_ABBREVIATIONS and not (out and _AFTER_A_NUMBER.search(out[-1])):
            out.extend(w.capitalize() for w in ROLE_ABBREVIATIONS[bare.lower()].split())
        else:
            out.append(word)
    return out


def _roles_spelled_out(text: str, any_case: bool) -> str:
    """A question's roles in initials spelled out ("who is the Israeli PM?" → "… prime
    minister?"), so that its words meet the passages' titles: in capitals, or in any case
    in a question asking a role; never after a number."""

    def spelled(match: re.Match) -> str:
        if _AFTER_A_NUMBER.search(text[: match.start()]) or not (any_case or match.group(1).isupper()):
            return match.group(0)
        return ROLE_ABBREVIATIONS[match.group(1).lower()]

    return _INITIALS.sub(spelled, text)


# Titles made from a verb, with the verb in the present and the past as questions ask
# it: "who leads the party?" asks for its leader, and a sentence naming "the leader of
# the party" holds what "leads" asks.
AGENT_NOUNS = {
    "leader": ("lead", "leads", "led"),
    "head": ("heads", "headed"),
    "founder": ("founded", "co-founded"),
    "governor": ("governs", "governed"),
    "commander": ("commands", "commanded"),
    "director": ("directs", "directed"),
    "chair": ("chairs", "chaired"),
    "ruler": ("rules", "ruled"),
    "manager": ("manages", "managed"),
    "owner": ("owns", "owned"),
    "coach": ("coaches", "coached"),
    "editor": ("edits", "edited"),
}
_ROLE_VERBS = {verb: noun for noun, verbs in AGENT_NOUNS.items() for verb in verbs}
# "who leads [the Syrian opposition] (now)?": the verb's object is what the role is
# of, a noun phrase of a few words; a longer one is a clause ("who led the group that
# took the city?"), which asks about a deed, not a role. (Words joined by spaces only:
# a pattern that may split one word several ways takes seconds on a long one.)
_WHO_DOES = re.compile(
    r"^\s*who\s+(?:(?:currently|now|still)\s+)?(?P<verb>[a-z-]+)\s+(?:the\s+)?"
    r"(?P<object>[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*){0,2}?)"
    r"(?:\s*\??\s*$|\s+(?P<rest>(?:in|at|for|during|from|since|until|after|before|when|now|today|currently|then)\b.*))"
)
# A verb's particle or a preposition right after it makes another verb: "who ruled out
# a ceasefire?", "who leads in the polls?", "who heads up the committee?".
_PARTICLES = frozenset("out up off in on over down back to into about with by".split())
# What a title is "of": a name, or a body or place ("the party", "the country").
_BODIES = frozenset({"ORG", "NORP", "GPE", "LOC", "FAC"})


def as_role_question(analysis: "QuestionAnalysis") -> str | None:
    """ "who leads HTS?" asked as "who is the leader of HTS?", or None when the question
    asks for no role by its verb: passages name the holder by the title ("HTS leader X"),
    so retrieval looks for the title, which the verb alone rarely finds."""
    if not analysis.role:
        return None
    does = _WHO_DOES.match(" ".join(analysis.text.lower().split()))
    if does is None or does["verb"] not in _ROLE_VERBS:
        return None
    rest = (does["rest"] or "").rstrip(" ?").strip()
    return f"who is the {_ROLE_VERBS[does['verb']]} of {does['object'].strip()}{' ' + rest if rest else ''}?"


def _role(text: str) -> tuple[str, ...]:
    """The words of the role a who-question asks the holder of ("the [Syrian prime
    minister]", "who leads HTS?" → the [leader]), or () when it asks no such thing."""
    lowered = " ".join(text.lower().split())
    # A word ending like a verb ("-ed", "-ing") makes a clause of what follows, unless it
    # is written as a name ("the United Nations", "Beijing").
    written_lower = {w for w in re.findall(r"[\w’'-]+", text) if w.islower()}

    def clause(words: list[str]) -> bool:
        bare = [w.strip("?.,!;:") for w in words]
        return any(w in written_lower and re.search(r"[a-z]{2}(?:ed|ing)$", w) for w in bare)

    lowered = re.sub(r"\b(" + "|".join(ROLE_ABBREVIATIONS) + r")\b", lambda m: ROLE_ABBREVIATIONS[m.group(1)], lowered)
    does = _WHO_DOES.match(lowered)
    if does is not None and does["verb"] in _ROLE_VERBS:
        words = does["object"].split()
        if words[0] in _PARTICLES or any(w in _COMMON_WORDS_OF_A_CLAUSE for w in words):
            return ()  # "who ruled out …", "who led the group that took …"
        if clause(words) or clause((does["rest"] or "").split()):
            return ()
        named = any(w[:1].isupper() for w in text.split() if w.lower().strip("?.,!’'") in words)
        if not named and not (_NOUN_LABELS.get(_singular(words[-1]), frozenset()) <= _BODIES and _singular(words[-1]) in _NOUN_LABELS):
            return ()  # "who led the attack?" asks who did a deed; no title holds it
        # As "who is the leader of HTS?": the title names the role; what it is of is
        # one more thing the passage must say.
        return (_ROLE_VERBS[does["verb"]],)
    role = _WHO_HOLDS.match(lowered)
    if (
        role is None
        or _NOUN_LABELS.get(_singular(role["noun"])) != frozenset({"PERSON"})
        or clause((role["rest"] or "").split())
    ):
        return ()
    # "Syria's prime minister" is the Syrian one: the owner is one more word of the role.
    return tuple(([role["owner"]] if role["owner"] else []) + role["words"].split() + [role["noun"]])


# Words that make the object of a role verb a clause rather than a name.
_COMMON_WORDS_OF_A_CLAUSE = frozenset("that which who whom whose where when and or but to of by with".split())


def _expected(lowered: str, head: str | None) -> frozenset[str]:
    # A role's holder is a person, also when the role is told by a clause ("who is the
    # minister of the country that …?"); a verb's doer may be a group or a country ("who
    # leads the coalition?"), so "who leads …" keeps the wider who-types.
    holds = _WHO_HOLDS.match(lowered)
    noun = holds and ROLE_ABBREVIATIONS.get(holds["noun"], holds["noun"]).split()[-1]
    if holds and (_role(lowered) or _NOUN_LABELS.get(_singular(noun)) == frozenset({"PERSON"})):
        return frozenset({"PERSON"})
    # "What is the name of the prison …?" asks for a name of the noun's kind; of a noun of
    # no known kind, a name as "who" asks for.
    if head is not None and _NAME_OF.search(lowered):
        return _NOUN_LABELS[_singular(head)]
    if re.search(r"\bwhat(?:'s|’s| is| was) (?:his|her) (?:full )?name\b", lowered):
        return frozenset({"PERSON"})  # "… - what's his name?"
    if re.match(r"^\s*" + _FRONTED + r"(?:who|whom|whose)\b", lowered) or re.search(r"\bwhat(?:'s| is) the name\b", lowered):
        return WHO
    if re.match(r"^\s*where\b", lowered) or re.search(r"\bwhere\b", lowered[:30]):
        return PLACES
    much = re.search(r"\bhow much((?:\s+[a-z-]+){1,2})", lowered)
    if much is not None and any(_NOUN_LABELS.get(_singular(w)) == frozenset({"MONEY"}) for w in much.group(1).split()):
        return frozenset({"MONEY"})  # "how much (annual) revenue …": the noun says the kind of amount
    if re.match(r"^\s*how (?:many|much)\b", lowered) or re.search(r"\bhow (?:many|much)\b", lowered):
        return AMOUNTS
    # A length or an age is a time or a measure; a size or a level, a measure, a sum of
    # money or a share ("how large is the fine?", "how high is inflation?"), never a date.
    if re.match(r"^\s*how (?:long|old|far back)\b", lowered):
        return frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL"})
    if re.match(r"^\s*how far\b", lowered):
        return frozenset({"QUANTITY", "CARDINAL"})
    if re.match(r"^\s*how (?:big|large|high|small|low)\b", lowered):
        return frozenset({"QUANTITY", "CARDINAL", "MONEY", "PERCENT"})
    if head is not None:
        return _NOUN_LABELS[_singular(head)]
    # Not the question's head noun: "what is the price" has no noun that the answer is one
    # of, as "which price" has ("and Brent?" after it asks "the price of Brent").
    value = _WHAT_IS_THE.match(lowered)
    if value is not None and value.group(1) in _VALUE_NOUNS:
        return _VALUE_NOUNS[value.group(1)]
    return frozenset()


def _intent(lowered: str, head: str | None, has_date: bool) -> Intent:
    if re.match(r"^\s*(?:" + _FRONTED + r"when|(?:on|in) (?:what|which) (?:date|day)|what (?:date|day)|which (?:date|day))\b", lowered):
        return "when"
    if re.search(r"\b(?:on|in) (?:what|which) (?:date|day)\b", lowered):
        return "when"
    # "What happened in Homs on 7 December?" asks about a day: its passages, as a day's
    # overview, before "what happened in …" asks for an account of a place.
    if has_date and _HAPPENED.search(lowered):
        return "day"
    if _OVERVIEW.match(lowered) or _STANCE.match(lowered):
        return "overview"
    if re.search(r"\bhow (?:many|much)\b", lowered):
        return "count"
    if _LIST.match(lowered) or (head is not None and _singular(head) != head):
        return "list"
    return "fact"


def _names(text: str, gazetteer: Gazetteer | None, skip: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """Names the question mentions: the index's known names first, then capitalised words."""
    found: list[tuple[int, int, str]] = []
    if gazetteer is not None:
        for start, end, label in gazetteer.find(text):
            written = text[start:end]
            # A lower-case word that is also an English word ("us", "it") is not the name.
            if written.islower() and written in _COMMON_SHORT_WORDS:
                continue
            found.append((start, end, label))
    for match in re.finditer(r"\b[A-Z][\w’'-]*(?:\s+(?:al-|bin\s+|de\s+)?[A-Z][\w’'-]+)*|\b[A-Z]{2,}\b", text):
        start, end = match.span()
        # "CEO" is a role, not a name, also after one ("Northwind's CEO").
        while text[start:end].split() and text[start:end].split()[-1].lower() in ROLE_ABBREVIATIONS:
            end = start + text[start:end].rstrip().rfind(" ") if " " in text[start:end] else start
        if end <= start:
            continue
        if start == 0 or any(s < end and start < e for s, e, _ in found) or any(s < end and start < e for s, e in skip):
            continue  # the first word is capitalised anyway
        if text[start:end].lower() in _ASKING_WORDS:
            continue
        found.append((start, end, "NAME"))
    names = []
    for start, end, label in sorted(found):
        if any(s < end and start < e for s, e in skip):
            continue
        names.append((text[start:end], label))
    return names


def _topic(text: str, dates: list[tuple[str, int, int]]) -> str:
    for _, start, end in reversed(dates):
        text = text[:start] + text[end:]
    asked = asked_part(text)
    text = text[: len(text) - len(asked)] + _STANCE.sub(_stance_group, asked)  # who reacted stays in the topic
    text = _HAPPENED.sub("", _OVERVIEW.sub("", text))
    words = [w for w in re.findall(r"[\w’'-]+", text) if w.lower() not in _ASKING_WORDS]
    return " ".join(words)


# Countries renamed, whose old and new names are both in use in English ("Turkey" and
# "Türkiye", "Burma" and "Myanmar"): a question may use one and the documents the other,
# and each names the same country. Renamings only, as they also join the retrieval
# query: a demonym ("Turkish"; mentions() reads it through _DEMONYMS) or a name for part
# of a country ("Britain", "Holland") is no other name of it, and counted as one it cost
# SQuAD held-out figures (docs/quality-history.md). Folded, as entity_key gives them.
_SAME_COUNTRY = (
    ("turkey", "turkiye"),
    ("czech republic", "czechia"),
    ("myanmar", "burma"),
    ("ivory coast", "cote d'ivoire"),
    ("eswatini", "swaziland"),
    ("cape verde", "cabo verde"),
    ("east timor", "timor-leste"),
)


def other_names(name: str) -> tuple[str, ...]:
    """The country's other names (folded), for a name of a country known by several."""
    key = entity_key(name)
    for group in _SAME_COUNTRY:
        if key in group:
            return tuple(other for other in group if other != key)
    return ()


# Demonyms that no suffix makes of their country's name ("Syria" ~ "Syrian" needs no
# entry, "Germany" ~ "German" does): a question asking about Germany is answered by a
# sentence on "the German chancellor", and the other way round. Folded, and matched as
# written (with a plural "-s"), never spelled loosely as transliterated names are:
# "Finnish" is not "finish". Left out: "English" and "Polish" (a language and a common
# word more often than the country) and the short nouns that are also first names
# ("Finn", "Dane").
_DEMONYMS = {
    "afghanistan": ("afghan",), "argentina": ("argentine", "argentinian"), "belgium": ("belgian",),
    "britain": ("british",), "burma": ("burmese",), "canada": ("canadian",), "china": ("chinese",),
    "congo": ("congolese",), "cyprus": ("cypriot",), "czech republic": ("czech",), "czechia": ("czech",),
    "denmark": ("danish",), "finland": ("finnish",), "france": ("french",),
    "germany": ("german",), "greece": ("greek",), "hungary": ("hungarian",), "iceland": ("icelandic", "icelander"),
    "ireland": ("irish",), "italy": ("italian",), "kazakhstan": ("kazakh",), "kosovo": ("kosovar",),
    "kyrgyzstan": ("kyrgyz",), "lebanon": ("lebanese",), "madagascar": ("malagasy",), "malta": ("maltese",),
    "mexico": ("mexican",), "morocco": ("moroccan",), "mozambique": ("mozambican",), "myanmar": ("burmese",),
    "netherlands": ("dutch",), "norway": ("norwegian",), "palestine": ("palestinian",), "peru": ("peruvian",),
    "philippines": ("filipino",), "portugal": ("portuguese",), "saudi arabia": ("saudi",), "scotland": ("scottish",),
    "slovakia": ("slovak",), "somalia": ("somali",), "spain": ("spanish",), "sweden": ("swedish",),
    "switzerland": ("swiss",), "tajikistan": ("tajik",), "thailand": ("thai",), "turkey": ("turkish",),
    "turkmenistan": ("turkmen",), "ukraine": ("ukrainian",), "united kingdom": ("british",),
    "united states": ("american",), "uzbekistan": ("uzbek",), "wales": ("welsh",),
}
_COUNTRIES_OF = {
    demonym: tuple(country for country, names in _DEMONYMS.items() if demonym in names)
    for demonym in {d for names in _DEMONYMS.values() for d in names}
}
# A demonym that a word before it makes another people's: "Latin American", "South
# African" name no one of the United States or of Africa's countries.
_OTHER_PEOPLE = r"(?<!latin )(?<!south )(?<!north )(?<!central )(?<!native )(?<!african )"


def name_variants(name: str) -> set[str]:
    """Folded spellings that count as the same name: the name, its words without a
    possessive, its demonym or plural forms ("Syria" ~ "Syrian", "Syrians"), and a
    country's other names ("Turkey" ~ "Türkiye")."""
    variants = set()
    for key in (entity_key(name), *other_names(name)):
        variants |= _spellings(key)
    return variants


def _exact_variants(name: str) -> set[str]:
    """The demonyms of a country named (with their plurals), or the countries of a
    demonym: matched only as written."""
    found = set()
    for key in (entity_key(name), *other_names(name)):
        found.update(*((d, d + "s") for d in _DEMONYMS.get(key, ())), _COUNTRIES_OF.get(key, ()))
    return found


def _spellings(key: str) -> set[str]:
    variants = {key}
    for suffix in ("n", "an", "ian", "ns", "ans", "ians", "s", "es", "i", "is", "ese", "ish"):
        variants.add(key + suffix)
        if key.endswith(suffix) and len(key) - len(suffix) >= 4:
            variants.add(key[: -len(suffix)])
    if key.endswith("a"):
        variants.update({key[:-1] + "an", key[:-1] + "ans"})
    return variants


def mentions(text: str, name: str, person: bool = False) -> bool:
    """True when ``text`` names ``name``, by one of its variants, as whole words; a
    ``person``'s full name also by the surname alone."""
    if not entity_key(name):
        return False  # punctuation only: it names nothing
    if person and (last := surname(name)) and _written_as_name(text, _mention_pattern(last)):
        return True
    return _mention_pattern(name).search(folded(text)) is not None


def _written_as_name(text: str, pattern: re.Pattern) -> bool:
    """Whether ``pattern`` (of a folded name) matches ``text`` where it is written with a
    capital ("Jobs", "al-Jolani"): a surname alone is also a common word ("lost their
    jobs", "a white flag"). Where folding changed the text's length, offsets can't be
    mapped back and any match counts."""
    lowered = folded(text)
    if len(lowered) != len(text):
        return pattern.search(lowered) is not None
    return any(any(c.isupper() for c in text[m.start() : m.end()]) for m in pattern.finditer(lowered))


_NAME_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())


def surname(name: str) -> str | None:
    """The last word of a person's full name ("al-Julani" of "Abu Mohammed al-Julani"):
    writers name a person in full once, then by the surname alone; None for one word."""
    words = [w for w in name.split() if w.lower().strip(",") not in _NAME_SUFFIXES]
    if len(words) < 2 or len(entity_key(words[-1])) < 4:
        return None
    return re.sub(r"[’'](?:s\b)?$", "", words[-1])  # "Jones’s", "Jones’"


def mention_starts(text: str, name: str) -> list[int]:
    """Where ``text`` names ``name`` (as ``mentions`` reads it): offsets in ``folded(text)``."""
    return [start for start, _ in mention_spans(text, name)]


def mention_spans(text: str, name: str) -> list[tuple[int, int]]:
    """(start, end) of each place ``text`` names ``name``, in ``folded(text)`` (the same
    offsets as in ``text`` where folding keeps its length, as for Latin letters)."""
    if not entity_key(name):
        return []
    return [m.span() for m in _mention_pattern(name).finditer(folded(text))]


# The same sentences and paragraphs are checked for each of the question's names, and
# again by the next question about them; folding text with accents is the slow path.
@functools.lru_cache(maxsize=2048)
def folded(text: str) -> str:
    """``text`` as names are looked for in it: lower case, no accents, typed marks."""
    return same_marks(fold(text))


def folded_in_place(text: str) -> str:
    """``folded(text)`` character by character, keeping its length, so that offsets in it
    are the text's: a character that folds to several ("…") is a space, which no name holds."""
    return "".join(f if len(f := folded(c)) == 1 else " " for c in text)


@functools.lru_cache(maxsize=4096)
def _mention_pattern(name: str) -> re.Pattern:
    """One pattern for all of a name's variants, compiled once: an answer checks each of
    the question's names against every candidate sentence and its paragraph (a variant
    at a time, uncached, that was ~9 ms of a 50 ms answer). Longer variants first, and
    the alternation backtracks, so it matches wherever any variant would on its own."""
    variants = sorted(name_variants(name), key=lambda v: (-len(v), v))
    exact = sorted(_exact_variants(name), key=lambda v: (-len(v), v))
    alternatives = [*map(_spelled_any_way, variants), *(_OTHER_PEOPLE + re.escape(v) for v in exact)]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


# Names transliterated from other scripts are spelled many ways ("Mohammed", "Mohamad",
# "Muhammad"; "Jolani", "Julani"; "Al Jazeera", "Al-Jazeera"): their vowels within a
# class of neighbours (o/u, a/e, e/i), doubled consonants and the hyphens or spaces
# between their words vary; their consonants, their first and last letters don't. So
# long words of a name match with such vowels inside and any consonant single or
# doubled. Other vowels name other people ("Bashar", "Bashir"; "Hussein", "Hassan"), and
# shorter words must match as written: they would collide ("Iran", "Iraq"; "Mali", "male").
_LOOSE_FROM = 6
_VOWELS = "aeiou"
_NEIGHBOURS = {"a": "ae", "e": "aei", "i": "ie", "o": "ou", "u": "ou"}


def _vowels_like(run: str) -> str:
    """A pattern for a run of vowels and its neighbours' spellings ("ia": [aei]+)."""
    return "[" + "".join(sorted(set("".join(_NEIGHBOURS[v] for v in run)))) + "]+"


def _spelled_any_way(variant: str) -> str:
    """A regular expression for ``variant`` (folded) and its other spellings."""
    parts = []
    for piece in re.split(r"([a-z]+)", variant):
        if re.fullmatch(r"[\s-]+", piece):
            # "Al Jazeera", "Al-Jazeera", "AlJazeera"; "Tahrir al-Sham", "Tahrir-al-Sham".
            parts.append(r"[\s-]*")
            continue
        if len(piece) < _LOOSE_FROM or not piece.isalpha():
            parts.append(re.escape(piece))
            continue
        inner = re.sub(r"([^aeiou])\1", r"\1", piece[1:-1])  # doubled consonants as single
        loose = re.sub(
            r"[aeiou]+|[^aeiou]",
            lambda m: _vowels_like(m.group()) if m.group()[0] in _VOWELS else re.escape(m.group()) + "{1,2}",
            inner,
        )
        parts.append(re.escape(piece[0]) + loose + re.escape(piece[-1]))
    return "".join(parts)
