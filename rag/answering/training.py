"""Fitting the answer model on public QA data, and measuring it on data it never saw.

The data is a BEIR folder with gold answers (``answers.jsonl``): SQuAD 2.0 paragraphs
and questions in ../shared/bench/squad2_cs224n. Questions are split by a hash of their
paragraph's id, so no paragraph serves both halves: the tuning half fits, the held-out
half measures.

Each question is run twice through the real pipeline (retrieval, candidate features):
as asked, and with its paragraph hidden from retrieval. The second run stands for a
question the documents don't answer (unless another paragraph happens to hold the
answer too), which is what the abstention threshold must learn to refuse.

Used by scripts/fit_answer_model.py and scripts/answer_ablation.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answering.candidates import FEATURES
from rag.answering.model import AnswerModel, ShortModel, logit
from rag.answering.spans import SPAN_FEATURES
from rag.evaluation import answer_contains

# How many passages each question retrieves, as answer() does by default.
K = 5
# The share of questions the documents don't answer that the threshold is chosen for:
# people mostly ask about what their documents hold, and a refusal of an answerable
# question costs them as much as a wrong answer. One in five is an assumption about use,
# not a figure fitted to any question set.
UNANSWERABLE_SHARE = 0.2
# A short answer is shown when it holds the answer at least this often. It stands above
# the quote it comes from, which is its evidence, so a wrong one is caught at a glance
# while a right one saves reading the quote; one in three is an assumption about use,
# like UNANSWERABLE_SHARE, not a figure fitted to any question set.
SHORT_SHOWN_AT = 1 / 3
# A span "holds the answer" when it contains a gold answer with at most this many words
# more: "Marie Curie" for "Curie", not the whole clause around it.
SPAN_SLACK = 2


@dataclass(frozen=True)
class Run:
    """One question through retrieval and candidate features (no model applied yet)."""

    question_id: str
    hidden: bool  # its paragraph was hidden from retrieval
    features: np.ndarray  # candidates × FEATURES
    labels: np.ndarray  # candidate holds a gold answer
    gated: bool  # a rule refuses it (a question name no passage mentions)
    answerable: bool  # some candidate holds a gold answer
    keys: tuple[frozenset[str], ...] = ()  # the answers each candidate names (Candidate.answer_keys)


def split_half(paragraph_id: str) -> str:
    """ "tune" or "held-out", from a hash of the paragraph's id (stable across machines)."""
    return "tune" if hashlib.sha256(paragraph_id.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def squad_questions(folder: str | Path, half: str, max_queries: int | None = None, workdir: Path | None = None):
    """(question id, text, gold answers, paragraph id) of one half, and the index of its
    documents (cached in ``workdir``, by default .cache/beir/<folder name>)."""
    from rag.beir import build_index, load_beir
    from rag.config import PROJECT_ROOT

    data = load_beir(folder)
    if not data.answers:
        raise ValueError(f"{folder} has no answers.jsonl: the answer model needs gold answers")
    index = build_index(data, workdir or PROJECT_ROOT / ".cache" / "beir" / Path(folder).resolve().name)
    questions = []
    for query_id, text in data.queries.items():
        paragraphs = sorted(data.qrels.get(query_id, {}))
        if not paragraphs or not data.answers.get(query_id) or split_half(paragraphs[0]) != half:
            continue
        questions.append((query_id, text, tuple(data.answers[query_id]), paragraphs[0]))
    return questions[:max_queries], index


def collect(questions, index, hide: bool = True) -> list[Run]:
    """Run every question (and, with ``hide``, again without its paragraph)."""
    from rag.answering.candidates import candidates, unmentioned_names
    from rag.answering.question import analyze
    from rag.beir import _file_name
    from rag.embedding import get_embedder
    from rag.search import open_index, retrieve

    store = open_index(index)
    embedder = get_embedder(store.manifest.model)
    sources = np.array([c.source for c in store.chunks], dtype=object)
    _embed_every_sentence(store, embedder)
    runs = []
    for query_id, text, gold, paragraph in questions:
        analysis = analyze(text, store.gazetteer, store.known_dates)
        query_vector = embedder.encode_query(analysis.text)[0]
        for hidden in (False, True) if hide else (False,):
            allowed = np.flatnonzero(sources != _file_name(paragraph)) if hidden else None
            hits = retrieve(store, analysis.text, K, allowed=allowed)
            found = candidates(analysis, hits, store, query_vector)
            labels = np.array([answer_contains(c.text, ("|".join(gold),)) for c in found], dtype=bool)
            features = np.array([c.features for c in found], dtype="float64").reshape(-1, len(FEATURES))
            runs.append(
                Run(query_id, hidden, features, labels, bool(unmentioned_names(analysis, hits)), bool(labels.any()),
                    tuple(c.answer_keys for c in found))
            )
    return runs


def _embed_every_sentence(store, embedder) -> None:
    """Embed all sentences of the index that it doesn't store vectors for, in large batches
    up front (far faster than a question's few at a time), into the cache candidates()
    reads from."""
    from rag.answering.candidates import _sentence_spans, sentence_vectors

    texts = sorted({
        chunk.text[s:e] for chunk in store.chunks if store.sentence_vectors(chunk.chunk_id) is None
        for s, e, _ in _sentence_spans(chunk)
    })
    cache = sentence_vectors(store.manifest.model)
    cache.size = max(cache.size, len(texts) + 1000)
    for first in range(0, len(texts), 512):
        cache.get(embedder, texts[first : first + 512])


def _logistic_regression(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    # lbfgs on the full data is deterministic: the same data gives the same weights.
    return LogisticRegression(C=1.0, solver="lbfgs", max_iter=2000).fit(x, y)


# The best sentence's own features the confidence reads beside its score and lead. Length
# helps choose among a question's sentences (a fragment rarely answers: the sentence model
# weighs it up), but says nothing of whether the documents answer the question at all; the
# confidence takes it back out of the best sentence's score (its fitted weight is negative).
# Held-out SQuAD: refused with the paragraph hidden 0.611 → 0.664, right at the threshold
# 0.752 → 0.746; each other feature was tried in its place and not kept.
CONFIDENCE_FEATURES = ("length",)


def fit(
    runs: list[Run], features: tuple[str, ...] = FEATURES, corroboration: bool = True,
    confidence_features: tuple[str, ...] = CONFIDENCE_FEATURES,
) -> AnswerModel:
    """Fit the sentence model, then the confidence model and its threshold, on ``runs``
    (``corroboration``, ``confidence_features``: see AnswerModel)."""
    keep = [FEATURES.index(f) for f in features]
    asked = [r for r in runs if not r.hidden and len(r.labels)]
    x = np.concatenate([r.features[:, keep] for r in asked])
    y = np.concatenate([r.labels for r in asked])
    sentence = _logistic_regression(x, y)
    weights = [0.0] * len(FEATURES)
    for position, coefficient in zip(keep, sentence.coef_[0]):
        weights[position] = float(coefficient)
    model = AnswerModel(
        FEATURES, tuple(weights), float(sentence.intercept_[0]), (1.0, 0.0), 0.0, 0.5, corroboration=corroboration
    )

    own = [FEATURES.index(f) for f in confidence_features]
    tops = [_top(model, r) for r in runs]
    usable = [t for t in tops if t is not None]
    x = np.array([[best, min(best - second, 5.0), *(top_features[i] for i in own)] for best, second, _, top_features in usable])
    y = np.array([right for _, _, right, _ in usable])
    confidence = _logistic_regression(x, y)
    model = dataclasses.replace(
        model,
        confidence_weights=tuple(float(w) for w in confidence.coef_[0]),
        confidence_bias=float(confidence.intercept_[0]),
        confidence_features=tuple(confidence_features),
    )
    return dataclasses.replace(model, threshold=best_threshold(model, runs))


def _top(model: AnswerModel, run: Run) -> tuple[float, float, bool, tuple[float, ...]] | None:
    """(best score, runner-up score, best is right, the best's features) of a run under ``model``."""
    if not len(run.labels):
        return None
    scores = run.features @ np.array(model.weights) + model.bias
    order = np.argsort(-scores, kind="stable")
    keys = [run.keys[i] for i in order] if run.keys else [frozenset()] * len(order)
    second = model.runner_up(scores[order], keys)
    best = float(scores[order[0]])
    return best, best - 5.0 if second is None else second, bool(run.labels[order[0]]), tuple(run.features[order[0]])


@dataclass(frozen=True)
class Decision:
    answered: bool
    right: bool  # the best sentence holds a gold answer


def decisions(model: AnswerModel, runs: list[Run], threshold: float | None = None) -> list[Decision]:
    threshold = model.threshold if threshold is None else threshold
    result = []
    for run in runs:
        top = _top(model, run)
        if top is None:
            result.append(Decision(False, False))
            continue
        best, second, right, features = top
        confident = model.confidence(best, second, features) >= threshold
        result.append(Decision(confident and not run.gated, right))
    return result


def best_threshold(model: AnswerModel, runs: list[Run], unanswerable_share: float = UNANSWERABLE_SHARE) -> float:
    """The threshold that gets the most runs right, runs with their paragraph hidden
    weighted to make up ``unanswerable_share`` of all.

    A run as asked is right when it is answered correctly; a run with its paragraph
    hidden is right when it abstains, or answers correctly from another paragraph.
    Ties go to the lowest threshold (answer more).
    """
    asked = sum(not r.hidden for r in runs)
    hidden = sum(r.hidden for r in runs)
    weight = unanswerable_share / (1 - unanswerable_share) * asked / max(1, hidden)
    scored = []  # (confidence, worth when answered, worth when abstaining)
    for run in runs:
        top = _top(model, run)
        if top is None:
            continue
        best, second, right, features = top
        confidence = -1.0 if run.gated else model.confidence(best, second, features)
        if run.hidden:
            scored.append((confidence, weight * right, weight * (not right)))
        else:
            scored.append((confidence, float(right), 0.0))
    scored.sort()
    # Threshold at each confidence in turn: runs below it abstain, the rest answer.
    answered = sum(worth for _, worth, _ in scored)
    abstained = 0.0
    best, best_worth = 0.0, answered
    for confidence, worth_answered, worth_abstained in scored:
        answered -= worth_answered
        abstained += worth_abstained
        if answered + abstained > best_worth + 1e-12:
            best, best_worth = confidence + 1e-9, answered + abstained
    return max(0.0, best)


@dataclass(frozen=True)
class HeldOut:
    questions: int
    all_answered: float  # best sentence right, never abstaining
    at_threshold: float  # answered and right, over all questions
    coverage: float  # share answered
    hidden_abstained: float  # with the paragraph hidden and no other holding the answer: share refused
    log_loss: float  # of the sentence model on the held-out sentences


def held_out(model: AnswerModel, runs: list[Run]) -> HeldOut:
    asked = [r for r in runs if not r.hidden]
    hidden = [r for r in runs if r.hidden and not r.answerable]
    asked_decisions = decisions(model, asked)
    n = max(1, len(asked))
    x = np.concatenate([r.features for r in asked]) if asked else np.zeros((0, len(FEATURES)))
    y = np.concatenate([r.labels for r in asked]) if asked else np.zeros(0, bool)
    p = 1 / (1 + np.exp(-np.clip(x @ np.array(model.weights) + model.bias, -30, 30)))
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return HeldOut(
        questions=len(asked),
        all_answered=sum(d.right for d in asked_decisions) / n,
        at_threshold=sum(d.right and d.answered for d in asked_decisions) / n,
        coverage=sum(d.answered for d in asked_decisions) / n,
        hidden_abstained=sum(not d.answered for d in decisions(model, hidden)) / max(1, len(hidden)),
        log_loss=float(-np.mean(np.where(y, np.log(p), np.log(1 - p)))) if len(y) else float("nan"),
    )


# -- short answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanRun:
    """The candidate short answers of one question's best sentence, under a sentence model."""

    question_id: str
    features: np.ndarray  # spans × SPAN_FEATURES
    labels: np.ndarray  # span holds a gold answer
    texts: tuple[str, ...]
    confidence: float  # the answer's
    answered: bool  # the answer is given, not abstained
    gold: tuple[str, ...]
    question: str = ""  # as analysed
    sentence: str = ""
    offsets: tuple[tuple[int, int], ...] = ()  # of each span in ``sentence``


def holds_answer(span: str, gold: tuple[str, ...]) -> bool:
    """``span`` contains one of the gold answers, with at most SPAN_SLACK words more."""
    words = len(span.split())
    return any(
        alternative.strip() and answer_contains(span, (alternative,)) and words <= len(alternative.split()) + SPAN_SLACK
        for answers in gold for alternative in answers.split("|")
    )


def collect_spans(questions, index, model: AnswerModel) -> list[SpanRun]:
    """Run every question through the real answer (with ``model``'s sentence part) and
    describe the spans of the sentence it quotes first."""
    from rag.answering import attempt, decide
    from rag.answering.spans import spans
    from rag.parsing import parser_for

    runs = []
    for query_id, text, gold, _ in questions:
        tried = attempt(text, index=index, model=model)
        answered = decide(text, tried, model=dataclasses.replace(model, short=None)).found
        best = tried.ranked[0] if tried.ranked and tried.analysis.intent not in ("overview", "day", "list") else None
        parse = parser_for(tried.tagger_name)
        grammar = parse(best.hit.text[best.start : best.end]) if best and parse else None
        found = spans(tried.analysis, best.hit.text, best.start, best.end, best.entities, grammar, best.passage_entities) if best else []
        texts = tuple(s.answer(best.hit.text) for s in found) if best else ()
        runs.append(SpanRun(
            query_id,
            np.array([s.features for s in found], dtype="float64").reshape(-1, len(SPAN_FEATURES)),
            np.array([holds_answer(t, gold) for t in texts], dtype=bool),
            texts, tried.confidence, answered, gold,
            tried.analysis.text,
            best.text if best else "",
            tuple((s.start - best.start, s.end - best.start) for s in found),
        ))
    return runs


def span_reader(index):
    """``read(question) -> Reading`` with the embedding model of ``index``, as answer() reads spans."""
    from rag.answering import reading
    from rag.search import open_index

    model_name = open_index(index).manifest.model
    return lambda question: reading(question, model_name)


def _ranked(model: ShortModel, run: SpanRun, read) -> list[tuple[float, int]]:
    """(final score, span number) of the run's best spans, best first, as answer() ranks them."""
    from rag.answering.spans import Span, ranked

    found = [Span(s, e, tuple(f)) for (s, e), f in zip(run.offsets, run.features)]
    number = {id(span): i for i, span in enumerate(found)}
    reading = read(run.question) if read is not None and found else None
    return [(score, number[id(span)]) for score, span in ranked(model, run.question, run.sentence, 0, len(run.sentence), found, reading)]


def fit_short(runs: list[SpanRun], features: tuple[str, ...] = SPAN_FEATURES, read=None) -> ShortModel:
    """Fit the span ranker (a softmax over each sentence's spans), the second reading of
    its best spans (with ``read``, from span_reader; without, none) and its calibration."""
    from rag.answering.spans import FILL_TOP, ranked

    keep = np.array([f in features for f in SPAN_FEATURES])
    groups = [(r.features * keep, r.labels) for r in runs if r.labels.any()]
    fitted = _softmax_fit(groups, len(SPAN_FEATURES))
    weights = tuple(float(w) if k else 0.0 for w, k in zip(fitted, keep))
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 0.0, SHORT_SHOWN_AT)
    if read is not None:
        # The second reading ranks the first's FILL_TOP best by (their score, their fill gain).
        reread = dataclasses.replace(model, fill_weights=(0.0, 1.0))
        groups = []
        for run in runs:
            top = _ranked(model, run, None)[:FILL_TOP]
            gains = dict((i, g) for g, i in _ranked(reread, run, read))
            labels = np.array([run.labels[i] for _, i in top], dtype=bool)
            if labels.any():
                groups.append((np.array([[score, gains[i]] for score, i in top]), labels))
        first = _softmax_fit(groups, 2, start=np.array([1.0, 0.0]))
        model = dataclasses.replace(model, fill_weights=(float(first[0]), float(first[1])))
    tops = [t for t in (_top_span(model, r, read) for r in runs) if t is not None]
    x = np.array([[best, min(best - second, 5.0), logit(r.confidence)] for best, second, _, r in tops])
    y = np.array([right for _, _, right, _ in tops], dtype=bool)
    if y.all() or not y.any():
        # Nothing to tell right from wrong by (tiny data): the smoothed rate, for every span.
        return dataclasses.replace(model, calibration_weights=(0.0, 0.0, 0.0), calibration_bias=logit((y.sum() + 1) / (len(y) + 2)))
    calibration = _logistic_regression(x, y)
    return dataclasses.replace(
        model,
        calibration_weights=tuple(float(w) for w in calibration.coef_[0]),
        calibration_bias=float(calibration.intercept_[0]),
    )


def _softmax_fit(groups, width: int, start: np.ndarray | None = None) -> np.ndarray:
    """Weights of a softmax over each group's rows that puts the mass on its right rows."""
    from scipy.optimize import minimize

    def loss(w):
        total, gradient = 0.0, np.zeros_like(w)
        for x, y in groups:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            right = p[y].sum()
            total -= np.log(right)
            gradient -= (x[y].T @ p[y]) / right - x.T @ p
        # L2 on the weights, as for the sentence model: no feature may dominate on a few questions.
        return (total + 0.5 * w @ w) / len(groups), (gradient + w) / len(groups)

    initial = np.zeros(width) if start is None else start
    if not groups:  # no sentence held its answer in a span: nothing to rank by
        return initial
    return minimize(loss, initial, jac=True, method="L-BFGS-B", options={"maxiter": 2000}).x


def _top_span(model: ShortModel, run: SpanRun, read=None):
    """(best score, runner-up score, best holds the answer, run), as answer() scores them."""
    top = _ranked(model, run, read)
    if not top:
        return None
    best, number = top[0]
    second = top[1][0] if len(top) > 1 else best - 5.0
    return best, second, bool(run.labels[number]), run


@dataclass(frozen=True)
class ShortReport:
    questions: int
    best_span_right: float  # answered, and the best span holds the answer, shown or not
    shown: float  # answered with a short answer
    right: float  # answered with a short answer that holds the gold (the measure)
    precision: float  # right / shown


def short_held_out(model: ShortModel, runs: list[SpanRun], read=None) -> ShortReport:
    best_right = shown = right = 0
    for run in runs:
        if not run.answered:
            continue
        top = _ranked(model, run, read)
        if not top:
            continue
        (best, number), second = top[0], (top[1][0] if len(top) > 1 else None)
        holds = answer_contains(run.texts[number], ("|".join(run.gold),))
        best_right += holds
        if model.probability(best, second, run.confidence) >= model.threshold:
            shown += 1
            right += holds
    n = max(1, len(runs))
    return ShortReport(len(runs), best_right / n, shown / n, right / n, right / max(1, shown))
