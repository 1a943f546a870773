"""Evaluation on a dev set of questions with the verbatim text that answers them.

Dev-set format (JSON lines)::

    {"id": "q01", "question": "who granted Assad asylum?", "type": "fact",
     "evidence": ["Russian President Vladimir Putin was the one who granted …"],
     "answers": ["Putin"]}

``type`` is fact, list, when or unanswerable. A passage is relevant when it contains
one of the ``evidence`` strings. An answer is correct when its text contains every
``answers`` string (case-insensitive; "a|b" accepts either spelling).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from rag.types import Hit


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    evidence: tuple[str, ...]
    answers: tuple[str, ...]

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
            questions.append(
                Question(
                    id=str(data.get("id", number)),
                    question=data["question"],
                    type=data.get("type", "fact"),
                    evidence=tuple(data.get("evidence", ())),
                    answers=tuple(data.get("answers", ())),
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


def evaluate_retrieval(questions: list[Question], index=None) -> RetrievalReport:
    """Recall@1, Recall@5 and MRR@10 of ``search()`` over the answerable questions."""
    from rag.search import search

    answerable = [q for q in questions if q.answerable]
    search(answerable[0].question, k=10, index=index)  # warm up: load model and index
    ranks, latencies = [], []
    for question in answerable:
        started = time.perf_counter()
        hits = search(question.question, k=10, index=index)
        latencies.append((time.perf_counter() - started) * 1000)
        ranks.append(first_relevant_rank(hits, question))
    n = len(answerable)
    return RetrievalReport(
        questions=n,
        recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_5=sum(r is not None and r <= 5 for r in ranks) / n,
        mrr_at_10=sum(1 / r for r in ranks if r is not None) / n,
        latency_p50_ms=statistics.median(latencies),
        latency_p95_ms=_percentile(latencies, 0.95),
        misses=tuple(q.id for q, r in zip(answerable, ranks) if r is None or r > 5),
    )


@dataclass(frozen=True)
class AnswerReport:
    retrieval: RetrievalReport
    answerable: int
    unanswerable: int
    accuracy: float  # answerable questions whose answer holds every gold string
    false_abstentions: int
    abstention_accuracy: float  # unanswerable questions that were abstained on
    latency_p50_ms: float
    wrong: tuple[str, ...]
    calibration: tuple[tuple[float, float, float], ...]  # (threshold, coverage, accuracy)
    best_threshold: float


def evaluate_devset(questions: list[Question], index=None) -> AnswerReport:
    """Retrieval and answer quality on a dev set, and the abstention threshold it supports."""
    import dataclasses

    from rag.answer import SETTINGS, compose, confidence, could_answer, score_sentences

    retrieval = evaluate_retrieval(questions, index=index)
    latencies, outcomes = [], []
    open_settings = dataclasses.replace(SETTINGS, threshold=float("-inf"))
    for question in questions:
        started = time.perf_counter()
        hits, candidates = score_sentences(question.question, index=index)
        result = compose(question.question, hits, candidates, SETTINGS)
        latencies.append((time.perf_counter() - started) * 1000)
        best = confidence(candidates) if could_answer(question.question, hits, candidates) else float("-inf")
        forced = compose(question.question, hits, candidates, open_settings)
        outcomes.append((question, result, best, answer_contains(forced.text, question.answers)))

    answerable = [(q, r) for q, r, _, _ in outcomes if q.answerable]
    unanswerable = [(q, r) for q, r, _, _ in outcomes if not q.answerable]
    correct = [q.id for q, r in answerable if r.found and answer_contains(r.text, q.answers)]
    calibration, best_threshold, best_right = [], SETTINGS.threshold, -1
    for threshold in sorted({round(b, 2) for _, _, b, _ in outcomes if b > float("-inf")}):
        # every threshold the data can tell apart: the lowest one that answers each question
        answered = [(q, ok) for q, _, b, ok in outcomes if b >= threshold]
        right = sum(q.answerable and ok for q, ok in answered) + sum(
            not q.answerable for q, _, b, _ in outcomes if b < threshold
        )
        accuracy = sum(q.answerable and ok for q, ok in answered) / max(1, len(answered))
        calibration.append((threshold, len(answered) / len(outcomes), accuracy))
        if right > best_right:
            best_threshold, best_right = threshold, right
    return AnswerReport(
        retrieval=retrieval,
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        accuracy=len(correct) / max(1, len(answerable)),
        false_abstentions=sum(not r.found for _, r in answerable),
        abstention_accuracy=sum(not r.found for _, r in unanswerable) / max(1, len(unanswerable)),
        latency_p50_ms=statistics.median(latencies),
        wrong=tuple(q.id for q, _ in answerable if q.id not in correct)
        + tuple(q.id for q, r in unanswerable if r.found),
        calibration=tuple(calibration),
        best_threshold=best_threshold,
    )


def format_devset(report: AnswerReport) -> str:
    r = report.retrieval
    lines = [
        f"retrieval ({r.questions} answerable questions)",
        f"  Recall@1   {r.recall_at_1:.3f}",
        f"  Recall@5   {r.recall_at_5:.3f}",
        f"  MRR@10     {r.mrr_at_10:.3f}",
        f"  search()   p50 {r.latency_p50_ms:.1f} ms, p95 {r.latency_p95_ms:.1f} ms",
        f"  missed@5   {' '.join(r.misses) or '-'}",
        "answers",
        f"  accuracy             {report.accuracy:.3f} of {report.answerable} answerable",
        f"  false abstentions    {report.false_abstentions} of {report.answerable}",
        f"  abstention accuracy  {report.abstention_accuracy:.3f} of {report.unanswerable} unanswerable",
        f"  answer() p50         {report.latency_p50_ms:.1f} ms",
        f"  wrong                {' '.join(report.wrong) or '-'}",
        f"calibration: threshold that gets the most questions right: {report.best_threshold:.2f}",
        "  threshold  coverage  accuracy",
    ]
    step = max(1, len(report.calibration) // 12)
    lines += [f"  {t:9.2f}  {c:8.2f}  {a:8.2f}" for t, c, a in report.calibration[::step]]
    return "\n".join(lines)
