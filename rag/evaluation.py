"""Evaluation on a dev set of questions with the verbatim text that answers them.

Dev-set format (JSON lines)::

    {"id": "q01", "question": "who granted Assad asylum?", "type": "fact",
     "evidence": ["Russian President Vladimir Putin was the one who granted …"],
     "answers": ["Putin"], "short": ["Vladimir Putin|Putin"]}

``type`` is one of:

- fact, list, when, two-step: correct when the answer holds every ``answers``
  string (case-insensitive; "a|b" accepts either spelling);
- followup: the same, asked after the questions in ``history`` (oldest first),
  whose answers are passed as the conversation;
- date ("what happened on 8 December?"): correct when every citation is dated
  one of ``dates``;
- overview ("tell me about …"): correct when at least two passages are cited and
  each holds one of the ``evidence`` snippets (it is on topic);
- unanswerable: correct when the answer abstains.

A passage is relevant when it contains one of the ``evidence`` strings. ``short``,
where given, is checked against ``Answer.short`` ("a|b" accepts either).
"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from rag.types import Answer, Hit

KINDS = ("fact", "list", "when", "two-step", "followup", "date", "overview", "unanswerable")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    evidence: tuple[str, ...]
    answers: tuple[str, ...]
    history: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    short: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_devset(path: str | Path) -> list[Question]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            kind = data.get("type", "fact")
            if kind not in KINDS:
                raise ValueError(f"type {kind!r} is not one of {', '.join(KINDS)}")
            questions.append(
                Question(
                    id=str(data.get("id", number)),
                    question=data["question"],
                    type=kind,
                    evidence=tuple(data.get("evidence", ())),
                    answers=tuple(data.get("answers", ())),
                    history=tuple(data.get("history", ())),
                    dates=tuple(data.get("dates", ())),
                    short=tuple(data.get("short", ())),
                )
            )
        except (ValueError, KeyError) as error:
            raise ValueError(f"{path}, line {number}: not a dev-set question ({error})") from error
    return questions


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def is_relevant(hit_text: str, question: Question) -> bool:
    text = _squash(hit_text)
    return any(_squash(e) in text for e in question.evidence)


def answer_contains(text: str, gold: tuple[str, ...]) -> bool:
    text = _squash(text)
    return all(any(_squash(alt) in text for alt in g.split("|")) for g in gold)


def is_correct(question: Question, result: Answer) -> bool:
    """Whether ``result`` answers ``question`` as its type requires (see the module's doc)."""
    if question.type == "unanswerable":
        return not result.found
    if not result.found:
        return False
    if question.type == "date":
        return bool(result.citations) and all(c.hit.date in question.dates for c in result.citations)
    if question.type == "overview":
        return len(result.citations) >= 2 and all(is_relevant(c.hit.text, question) for c in result.citations)
    return answer_contains(result.text, question.answers)


def short_is_correct(question: Question, result: Answer) -> bool:
    return bool(result.found and result.short) and answer_contains(result.short, question.short)


def first_relevant_rank(hits: list[Hit], question: Question) -> int | None:
    for hit in hits:
        if is_relevant(hit.text, question):
            return hit.rank
    return None


@dataclass(frozen=True)
class RetrievalReport:
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    latency_p50_ms: float
    latency_p95_ms: float
    misses: tuple[str, ...]  # ids of questions with no relevant passage in the top 5


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def retrieval_questions(questions: list[Question]) -> list[Question]:
    """Questions that retrieval alone can be judged on: answerable, stand-alone, with evidence."""
    return [q for q in questions if q.answerable and q.evidence and not q.history and q.type not in ("date", "overview")]


def evaluate_retrieval(questions: list[Question], index=None) -> RetrievalReport:
    """Recall@1, Recall@5 and MRR@10 of ``search()`` over the answerable questions."""
    from rag.search import search

    judged = retrieval_questions(questions)
    if not judged:
        return RetrievalReport(0, 0.0, 0.0, 0.0, 0.0, 0.0, ())
    search(judged[0].question, k=10, index=index)  # warm up: load model and index
    ranks, latencies = [], []
    for question in judged:
        started = time.perf_counter()
        hits = search(question.question, k=10, index=index)
        latencies.append((time.perf_counter() - started) * 1000)
        ranks.append(first_relevant_rank(hits, question))
    n = len(judged)
    return RetrievalReport(
        questions=n,
        recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_5=sum(r is not None and r <= 5 for r in ranks) / n,
        mrr_at_10=sum(1 / r for r in ranks if r is not None) / n,
        latency_p50_ms=statistics.median(latencies),
        latency_p95_ms=_percentile(latencies, 0.95),
        misses=tuple(q.id for q, r in zip(judged, ranks) if r is None or r > 5),
    )


@dataclass(frozen=True)
class Outcome:
    """One question's answer, and the answer it would have given without abstaining."""

    question: Question
    result: Answer
    forced_correct: bool  # the answer ignoring the threshold is correct
    confidence: float  # -inf when a rule abstains whatever the confidence
    latency_ms: float


def run_questions(
    questions: list[Question], index=None, settings=None, rules=None, model=None, gates: bool = True
) -> list[Outcome]:
    """Answer every question (follow-ups after their history) the way answer() does.

    ``gates=False`` ignores the rule that refuses questions naming what no passage
    mentions (for ablations).
    """
    from rag.answering import RULES, attempt, decide
    from rag.answering.model import load_model
    from rag.settings import ANSWER

    settings, rules, model = settings or ANSWER, rules or RULES, model or load_model()
    open_settings = dataclasses.replace(settings, threshold=float("-inf"))
    conversations: dict[tuple[str, ...], list[Answer]] = {}
    outcomes = []
    for question in questions:
        history = conversations.get(question.history)
        if history is None:
            history = []
            for earlier in question.history:
                history.append(decide(earlier, attempt(earlier, index=index, history=history, model=model), settings, rules, model))
            conversations[question.history] = history
        started = time.perf_counter()
        tried = attempt(question.question, index=index, history=history, model=model)
        if not gates:
            tried = dataclasses.replace(tried, gated=False)
        result = decide(question.question, tried, settings, rules, model)
        latency = (time.perf_counter() - started) * 1000
        forced = decide(question.question, tried, open_settings, rules, model)
        confidence = float("-inf") if tried.gated or not tried.ranked else tried.confidence
        outcomes.append(Outcome(question, result, is_correct(question, forced), confidence, latency))
    return outcomes


@dataclass(frozen=True)
class AnswerReport:
    retrieval: RetrievalReport
    answerable: int
    unanswerable: int
    accuracy: float  # answerable questions answered correctly
    false_abstentions: int
    abstention_accuracy: float  # unanswerable questions that were abstained on
    short_accuracy: float | None  # questions with a gold short answer whose Answer.short holds it
    short_questions: int
    by_type: tuple[tuple[str, int, float], ...]  # (type, questions, accuracy)
    latency_p50_ms: float
    wrong: tuple[str, ...]
    calibration: tuple[tuple[float, float, float], ...]  # (threshold, coverage, accuracy)
    best_threshold: float


def evaluate_devset(
    questions: list[Question], index=None, settings=None, rules=None, model=None, gates: bool = True
) -> AnswerReport:
    """Retrieval and answer quality on a dev set, and the thresholds it would support."""
    retrieval = evaluate_retrieval(questions, index=index)
    outcomes = run_questions(questions, index=index, settings=settings, rules=rules, model=model, gates=gates)
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    right = {o.question.id for o in outcomes if is_correct(o.question, o.result)}
    with_short = [o for o in outcomes if o.question.short]
    by_type = []
    for kind in KINDS:
        of_kind = [o for o in outcomes if o.question.type == kind]
        if of_kind:
            by_type.append((kind, len(of_kind), sum(o.question.id in right for o in of_kind) / len(of_kind)))
    calibration, best_threshold, best_right = [], float("nan"), -1
    for threshold in sorted({round(o.confidence, 2) for o in outcomes if o.confidence > float("-inf")}):
        # every threshold the data can tell apart: the lowest one that answers each question
        answered = [o for o in outcomes if o.confidence >= threshold]
        correct = sum(o.question.answerable and o.forced_correct for o in answered)
        abstained = sum(not o.question.answerable for o in outcomes if o.confidence < threshold)
        calibration.append((threshold, len(answered) / len(outcomes), correct / max(1, len(answered))))
        if correct + abstained > best_right:
            best_threshold, best_right = threshold, correct + abstained
    return AnswerReport(
        retrieval=retrieval,
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        accuracy=sum(o.question.id in right for o in answerable) / max(1, len(answerable)),
        false_abstentions=sum(not o.result.found for o in answerable),
        abstention_accuracy=sum(not o.result.found for o in unanswerable) / max(1, len(unanswerable)),
        short_accuracy=sum(short_is_correct(o.question, o.result) for o in with_short) / len(with_short) if with_short else None,
        short_questions=len(with_short),
        by_type=tuple(by_type),
        latency_p50_ms=statistics.median(o.latency_ms for o in outcomes),
        wrong=tuple(o.question.id for o in outcomes if o.question.id not in right),
        calibration=tuple(calibration),
        best_threshold=best_threshold,
    )


def format_devset(report: AnswerReport, show_wrong: bool = True) -> str:
    r = report.retrieval
    lines = [
        f"retrieval ({r.questions} stand-alone answerable questions)",
        f"  Recall@1   {r.recall_at_1:.3f}",
        f"  Recall@5   {r.recall_at_5:.3f}",
        f"  MRR@10     {r.mrr_at_10:.3f}",
        f"  search()   p50 {r.latency_p50_ms:.1f} ms, p95 {r.latency_p95_ms:.1f} ms",
    ]
    if show_wrong:
        lines.append(f"  missed@5   {' '.join(r.misses) or '-'}")
    lines += [
        "answers",
        f"  accuracy             {report.accuracy:.3f} of {report.answerable} answerable",
        f"  false abstentions    {report.false_abstentions} of {report.answerable}",
        f"  abstention accuracy  {report.abstention_accuracy:.3f} of {report.unanswerable} unanswerable",
    ]
    if report.short_accuracy is not None:
        lines.append(f"  short answer         {report.short_accuracy:.3f} of {report.short_questions} with a gold short answer")
    lines.append(f"  answer() p50         {report.latency_p50_ms:.1f} ms")
    lines.append("  by type              " + ", ".join(f"{kind} {acc:.2f} ({n})" for kind, n, acc in report.by_type))
    if show_wrong:
        lines.append(f"  wrong                {' '.join(report.wrong) or '-'}")
    lines += [
        f"calibration: the threshold that gets the most questions right here: {report.best_threshold:.2f} "
        "(reported, never applied: the shipped threshold is fitted on SQuAD)",
        "  threshold  coverage  accuracy",
    ]
    step = max(1, len(report.calibration) // 12)
    lines += [f"  {t:9.2f}  {c:8.2f}  {a:8.2f}" for t, c, a in report.calibration[::step]]
    return "\n".join(lines)
