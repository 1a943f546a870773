"""answer(): the question answered in sentences quoted from the passages, each cited.

No model offline can rephrase reliably, and none is needed: every sentence of an
answer is a verbatim quote followed by its [n] marker, so an answer can never say
what its source does not. The work is choosing what to quote, in stages that each
live in their own module:

1. ``question``: what the question asks (once): the type of answer, its names and days;
   ``followup`` fills in "he" or "and Iran?" from the conversation;
2. ``candidates``: the sentences of the retrieved passages, with general features;
3. ``model``: a logistic model fitted on public QA data turns features into the
   probability that a sentence answers, and the best into a confidence;
4. ``select``: the best sentence, with what it can't be read without; a list's other
   items; a denial of it; for an overview, the best sentence of each top passage;
5. ``compose``: the cited text and the short answer — or an abstention.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rag.answering.candidates import Candidate, candidates, topic_unmentioned, unmentioned_names
from rag.answering.compose import NOT_FOUND, abstain, compose
from rag.answering.followup import contrasted, rewrite
from rag.answering.model import AnswerModel, load_model
from rag.answering.question import (
    ROLE_ABBREVIATIONS, QuestionAnalysis, analyze, as_role_question, folded, other_names, said_about, speakers,
)
from rag.answering.select import RULES, Quote, Rules, holds_role, select, statements, titled, writers_list
from rag.parsing import preload
from rag.settings import ANSWER, AnswerSettings
from rag.types import Answer, Hit

if TYPE_CHECKING:
    from rag.generation import LLMServer

Mode = Literal["auto", "extract", "generate"]

__all__ = ["NOT_FOUND", "answer", "Attempt", "attempt"]


@dataclass(frozen=True)
class Attempt:
    """Everything one question went through: for answer(), the evaluation and the fit."""

    analysis: QuestionAnalysis
    hits: list[Hit]
    ranked: list[Candidate]  # best first, probabilities set
    confidence: float
    gated: bool  # a rule says the passages cannot answer, whatever the confidence
    bridge: list[Quote]  # a two-step question's first step, quoted before the answer
    model_name: str | None = None  # the index's embedding model, which reads the short answer's spans
    tagger_name: str | None = None  # the index's entity tagger, whose pipeline parses the quoted sentence
    index_path: str | None = None  # the index's folder, where the sentences' parses are stored


def answer(
    question: str,
    k: int = 5,
    *,
    index=None,
    date_from=None,
    date_to=None,
    source: str | None = None,
    history: Sequence[Answer] | None = None,
    settings: AnswerSettings = ANSWER,
    rules: Rules = RULES,
    model: AnswerModel | None = None,
    mode: Mode = "auto",
    llm: "LLMServer | None" = None,
) -> Answer:
    """Answer ``question`` with sentences quoted from the k best passages, each cited.

    ``mode``: "extract" quotes; "generate" has a language model server (``llm``, a
    ``rag.generation.LLMServer``, else $RAG_LLM_URL and $RAG_LLM_MODEL) write the answer
    from the passages, each sentence then checked against them (rag.generation); "auto"
    generates when a server is configured, else quotes.

    ``found`` is False, with empty citations, when the passages don't answer it;
    ``hits`` always holds the passages considered. ``history`` holds the earlier
    answers of a conversation, oldest first, so that a follow-up ("where is he
    now?") is read with the names they mention.

    >>> result = answer("who granted Assad asylum?")      # doctest: +SKIP
    >>> result.short, result.text                         # doctest: +SKIP
    ('Vladimir Putin', 'Russian President Vladimir Putin was the one who granted … [1]')
    """
    server = None
    if mode != "extract":
        from rag.generation import server_for

        server = server_for(mode, llm)  # before any work: a bad mode or missing server is said at once
    model = model or load_model()
    tried = attempt(
        question, k, index=index, date_from=date_from, date_to=date_to, source=source,
        history=history, model=model,
    )
    quoted = decide(question, tried, settings, rules, model)
    if server is None:
        return quoted
    from rag.generation import generate

    return generate(quoted, server, history=history, index=index)


def decide(
    question: str, tried: Attempt, settings: AnswerSettings = ANSWER, rules: Rules = RULES, model: AnswerModel | None = None
) -> Answer:
    """The Answer for an attempt: quotes when it can answer, else an abstention."""
    model = model or load_model()
    analysis, hits, ranked = tried.analysis, tried.hits, tried.ranked
    threshold = settings.threshold if settings.threshold is not None else model.threshold
    if not ranked or tried.gated:
        return abstain(analysis, question, hits, tried.confidence)
    if analysis.asks_statement and rules.statements and speakers(analysis):
        # What a named speaker said is quoted from the sentences that report it, at any
        # confidence (see select.statements), when the passages hold the topic it is asked about.
        if topic_unmentioned(dataclasses.replace(analysis, topic=said_about(analysis)), hits):
            return abstain(analysis, question, hits, tried.confidence)
        quotes = statements(ranked, settings, analysis)
    elif tried.confidence >= threshold:
        quotes = select(analysis, ranked, settings, rules)
    elif analysis.intent in ("overview", "day"):
        # An overview or a day's summary answers below the threshold: what it asks for is
        # spread over passages, so no one sentence stands out as the answer. It still
        # needs passages about its topic.
        if topic_unmentioned(analysis, hits):
            return abstain(analysis, question, hits, tried.confidence)
        quotes = select(analysis, ranked, settings, rules)
    elif roles := [c for c in ranked if rules.titles and analysis.role and holds_role(c, analysis)]:
        # So does "who is the CEO?" where a sentence titles someone with that role
        # (select.holds_role): the title is the answer a reader looks for.
        quotes = select(analysis, roles, settings, rules)
    elif lists := [c for c in ranked if rules.writers_lists and writers_list(c, analysis)]:
        # So does a list that passages give under the noun asked for ("the cities of …",
        # select.writers_list): those lists are quoted, one per passage, and nothing
        # the threshold would not vouch for beside them.
        quotes = select(analysis, lists, settings, rules)
    else:
        return abstain(analysis, question, hits, tried.confidence)
    if not quotes:
        # An overview of a name that no candidate sentence states: nothing to quote.
        return abstain(analysis, question, hits, tried.confidence)
    if tried.bridge:
        bridge, hits = _with_bridge_hits(tried.bridge, hits)
        quotes = [q for q in bridge if not any(q.overlaps(o) for o in quotes)] + quotes
    short = _short_of(analysis, quotes, tried, model)
    titles_holder = analysis.role and rules.titles and holds_role(quotes[0].candidate, analysis)
    holder = titled(quotes[0].candidate, analysis) if titles_holder else None
    if holder is not None:
        # The person the quote titles with the asked role is the answer ("Chief executive
        # officer [Nancy Davolio] said …"), whatever span the short-answer model prefers.
        short = quotes[0].hit.text[holder.start : holder.end]
    elif analysis.role and rules.titles and short is not None:
        # Nor is the one it titles as having held it ("Former prime minister [X] …"), for a
        # question that doesn't ask about the past: the quote still says so, the short
        # answer would say the opposite.
        former = titled(quotes[0].candidate, analysis, past=True)
        if former is not None and short == quotes[0].hit.text[former.start : former.end]:
            short = None
    return compose(analysis, question, quotes, hits, tried.confidence, short=short)


def _with_bridge_hits(bridge: list[Quote], hits: list[Hit]) -> tuple[list[Quote], list[Hit]]:
    """A two-step answer's hits with the first step's passages after the second's, ranked
    on from them: every passage cited is among the passages shown as found."""
    hits = list(hits)
    ranked: list[Quote] = []
    for quote in bridge:
        hit = next((h for h in hits if h.chunk_id == quote.hit.chunk_id), None)
        if hit is None:
            hit = dataclasses.replace(quote.hit, rank=len(hits) + 1)
            hits.append(hit)
        ranked.append(dataclasses.replace(quote, candidate=dataclasses.replace(quote.candidate, hit=hit)))
    return ranked, hits


def _short_of(analysis: QuestionAnalysis, quotes: list[Quote], tried: Attempt, model: AnswerModel) -> str | None:
    from rag.answering.compose import short_answer

    # A two-step answer's short answer comes from its second step, quoted last.
    quoted = quotes[len(tried.bridge):] if tried.bridge else quotes
    return short_answer(
        analysis, quoted, tried.confidence, model.short,
        reading(analysis.text, tried.model_name, tried.tagger_name, tried.index_path),
    )


def reading(question: str, model_name: str | None, tagger_name: str | None = None, index_path=None):
    """How the short answer's spans are read in place: with the index's embedding model,
    sentences through the cache the candidates filled (the quoted one is in it), and
    parsed by the pipeline that tagged the index's entities (the parses stored in
    ``index_path`` first)."""
    from rag.answering.candidates import sentence_vectors
    from rag.answering.spans import Reading
    from rag.embedding import get_embedder
    from rag.parsing import parser_for

    if model_name is None:
        return None
    embedder = get_embedder(model_name)
    cache = sentence_vectors(model_name)
    return Reading(embedder.encode_query(question)[0], lambda texts: cache.get(embedder, texts), parser_for(tagger_name, index_path))


def attempt(
    question: str,
    k: int = 5,
    *,
    index=None,
    date_from=None,
    date_to=None,
    source: str | None = None,
    history: Sequence[Answer] | None = None,
    model: AnswerModel | None = None,
    allowed=None,
) -> Attempt:
    """Read the question, retrieve, and score every candidate sentence.

    ``allowed`` (positions of chunks in the index) is for evaluation only: it lets a
    script hide the passage that answers, to see what the answer does without it.
    """
    from rag.dates import parse_date
    from rag.search import open_for_query, retrieve, validate_query

    model = model or load_model()
    question = validate_query(question, k)
    store = open_for_query(index)
    preload(store.manifest.tagger, store.path)  # the short answer's parser, loading while we retrieve
    analysis = analyze(question, store.gazetteer, store.known_dates)
    if history and analysis.follow_up:
        analysis = analyze(rewrite(analysis, history, store.gazetteer), store.gazetteer, store.known_dates)
        analysis = dataclasses.replace(analysis, excluded=contrasted(analysis, history, store.gazetteer))
    date_from, date_to = parse_date(date_from, name="date_from"), parse_date(date_to, name="date_to")
    if analysis.intent == "day" and len(set(analysis.dates)) == 1 or (
        analysis.intent == "overview" and len(set(analysis.dates)) == 1 and analysis.dates[0] in store.known_dates
    ):
        # "What happened on 8 December?", "tell me about Homs on 7 December": the passages
        # of that day, within the user's filter (an overview, only where passages are
        # dated that day: of undated documents, the day is part of the topic).
        day = analysis.dates[0]
        date_from, date_to = max(date_from or day, day), min(date_to or day, day)
    query = as_role_question(analysis) or analysis.text
    if analysis.intent in ("overview", "day"):
        # An overview retrieves by its topic; a day with no topic, by what is central that day.
        query = analysis.topic if analysis.topic or analysis.intent == "day" else analysis.text
    if analysis.role:
        # A role asked by its initials ("who is the PM?"): passages mostly spell it out.
        query = " ".join([query, *dict.fromkeys(
            ROLE_ABBREVIATIONS[w] for w in re.findall(r"[a-z]+", query.lower()) if w in ROLE_ABBREVIATIONS
        )])
    if query:
        # A country the question names one way and the passages another ("Turkey",
        # "Türkiye"): the passages' name joins the query, or keyword search never meets it.
        known = store.gazetteer.labels
        query = " ".join([query, *dict.fromkeys(
            other for name, _ in analysis.names for other in other_names(name) if other in known and other not in folded(query)
        )])
    hits = retrieve(store, query, k, date_from=date_from, date_to=date_to, source=source, allowed=allowed)
    tried = _score(analysis, hits, store, model)
    if analysis.role and not any(holds_role(c, analysis) for c in tried.ranked):
        deeper = retrieve(store, query, 2 * k, date_from=date_from, date_to=date_to, source=source, allowed=allowed)
        tried = _with_titling_passages(tried, deeper, store, model)
    if tried.ranked and tried.ranked[0].answers and tried.confidence >= model.threshold:
        return tried  # answered in one step: a relative clause only narrows what is asked
    bridged = _two_step(tried, k, store, model, date_from, date_to, source, allowed)
    if bridged is None:
        return tried
    # The second step answers when it is surer, or when only it holds something of the
    # asked type: a first step whose best sentence names no year for "in which year …"
    # restates the relative clause ("the group that captured the prison"), however sure.
    typed = bool(tried.analysis.expected)
    only_second = typed and not tried.ranked[0].answers and bool(bridged.ranked[0].answers)
    return bridged if bridged.confidence > tried.confidence or only_second else tried


def _with_titling_passages(tried: Attempt, deeper: list[Hit], store, model: AnswerModel) -> Attempt:
    """``tried``, whose passages title no one with the asked role, with those of ``deeper``
    (retrieved twice as far) that do. A title names its holder in so many words, but a
    long passage holding it among other news may rank below the k best; only passages
    holding such a title join the k."""
    analysis = tried.analysis
    titling = {c.hit.chunk_id for c in _score(analysis, deeper, store, model).ranked if holds_role(c, analysis)}
    shown = {h.chunk_id for h in tried.hits}
    more = [h for h in deeper if h.chunk_id in titling and h.chunk_id not in shown]
    # Ranked on from the k: the passages shown are numbered 1 to k + len(more), no gaps.
    more = [dataclasses.replace(h, rank=len(tried.hits) + n) for n, h in enumerate(more, 1)]
    return _score(analysis, tried.hits + more, store, model) if more else tried


def _score(analysis: QuestionAnalysis, hits: list[Hit], store, model: AnswerModel) -> Attempt:
    from rag.embedding import get_embedder

    query_vector = get_embedder(store.manifest.model).encode_query(analysis.text)[0]
    found = candidates(analysis, hits, store, query_vector)
    scored = [(model.score(c.features), c) for c in found]
    scored.sort(key=lambda pair: -pair[0])
    ranked = [_with_probability(c, s) for s, c in scored]
    best = scored[0][0] if scored else float("-inf")
    runner_up = model.runner_up([s for s, _ in scored], [c.answer_keys for _, c in scored]) if scored else None
    confidence = model.confidence(best, runner_up, scored[0][1].features) if scored else 0.0
    gated = bool(unmentioned_names(analysis, hits))
    return Attempt(
        analysis, hits, ranked, confidence, gated, [], store.manifest.model, store.manifest.tagger, str(store.path)
    )


def _with_probability(candidate: Candidate, score: float) -> Candidate:
    import dataclasses

    from rag.answering.candidates import logistic

    return dataclasses.replace(candidate, probability=logistic(score))


# "the group that captured …", "the man who …": a thing named by what it did.
_RELATIVE = re.compile(r"\b(?:the|a|an)\s+((?:[a-z-]+\s+){0,2}?)([a-z-]+)\s+(?:that|who|which|whose|where)\s", re.I)


def _two_step(tried: Attempt, k: int, store, model: AnswerModel, date_from, date_to, source, allowed) -> Attempt | None:
    """A question that names something by what it did, answered in two retrievals.

    "In which year was the group that captured the prison listed?": the first step
    finds the sentence saying who captured the prison, and its name of the right type
    (the bridge); the second retrieves with that name and the rest of the question.
    """
    from rag.answering.question import noun_labels
    from rag.lexical import tokenize
    from rag.search import retrieve

    analysis = tried.analysis
    match = _RELATIVE.search(analysis.text)
    if match is None or not tried.ranked or analysis.intent in ("overview", "day", "list"):
        return None
    labels = noun_labels(match.group(2))
    if labels is None:
        return None
    bridge_analysis = analyze(analysis.text[match.start():], store.gazetteer, store.known_dates)
    bridge_analysis = QuestionAnalysis(**{**bridge_analysis.__dict__, "expected": labels, "intent": "fact"})
    first = _score(bridge_analysis, tried.hits, store, model)
    holder = next((c for c in first.ranked if c.answers), None)
    if holder is None:
        return None
    described = set(tokenize([match.group(1) + match.group(2)])[0])

    text = holder.hit.text

    def called(e) -> int:
        # How much of the clause's noun phrase the sentence calls it by ("the Syrian
        # president who …": "former Syrian President [Bashar Assad]" more than "Russian
        # President [Vladimir Putin]"; "[X], the former governor,"): among names of the
        # same kind, that one is meant. Its title runs back to the name of that kind or
        # the punctuation before it; an apposition, from the comma after it to the next.
        since = max([x.end for x in holder.answers if x.end <= e.start] + [holder.start])
        before = re.split(r"[,.;:“”\"()]", text[since : e.start])[-1].split()[-4:]
        after = re.split(r"[,.;:“”\"()]", text[e.end + 2 :])[0].split()[:5] if text[e.end :].startswith(", ") else []
        return len(described & set(tokenize([" ".join(before + after)])[0]))

    entity = max(holder.answers, key=lambda e: (e.label in labels, called(e), e.end - e.start))
    name = holder.hit.text[entity.start : entity.end]
    # The question with the name in place of the thing and its relative clause: "in which
    # year was [HTS] listed as terrorist?". The clause runs on while its words are the
    # first step's sentence's ("that captured the Homs prison"); the next word is the
    # question's own again.
    covered = set(tokenize([holder.text])[0])
    clause_end = match.end()
    for word in re.finditer(r"[\w’'-]+", analysis.text[match.end() :]):
        if not set(tokenize([word.group()])[0]) <= covered:
            break
        clause_end = match.end() + word.end()
    rest = analysis.text[clause_end:].lstrip()
    query = f"{analysis.text[: match.start()]}{name}{' ' if rest[:1].isalnum() else ''}{rest}"
    hits = retrieve(store, query, k, date_from=date_from, date_to=date_to, source=source, allowed=allowed)
    second_analysis = analyze(query, store.gazetteer, store.known_dates)
    second_analysis = QuestionAnalysis(
        **{**second_analysis.__dict__, "expected": analysis.expected, "intent": analysis.intent, "excluded": analysis.excluded}
    )
    second = _score(second_analysis, hits, store, model)
    if not second.ranked or second.ranked[0].text == holder.text:
        return None
    bridge = [Quote(holder, holder.start, holder.end)]
    return Attempt(
        analysis, hits, second.ranked, min(second.confidence, first.confidence), second.gated, bridge, second.model_name,
        second.tagger_name, second.index_path,
    )
