"""What each signal of the sentence score adds to answers on the dev set.

    .venv/bin/python scripts/answer_ablation.py [DEVSET] [--index DIR]
    .venv/bin/python scripts/answer_ablation.py --beir ../shared/bench/squad2_cs224n [--max-queries N]

Each row drops one signal (its weight set to 0) or one rule, re-calibrates the
abstention threshold on the same questions, and reports accuracy, false abstentions
and abstention accuracy at that threshold, beside the shipped settings.

With --beir (a BEIR folder with answers.jsonl, such as SQuAD), the questions were
never seen while tuning: each row reports the accuracy when every question is
answered, and the accuracy and coverage at the shipped threshold.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from rag.answer import SETTINGS, compose, confidence, could_answer, score_sentences  # noqa: E402
from rag.evaluation import Question, answer_contains, load_devset  # noqa: E402


def run(questions, index, settings, gates: bool = True) -> tuple[float, int, float, float]:
    """Accuracy, false abstentions and abstention accuracy at the best threshold."""
    forced = dataclasses.replace(settings, threshold=float("-inf"))
    outcomes = []
    for question in questions:
        hits, candidates = score_sentences(question.question, index=index, settings=settings)
        result = compose(question.question, hits, candidates, forced)
        gated = gates and not could_answer(question.question, hits, candidates)
        best = float("-inf") if gated or not candidates else confidence(candidates, settings)
        outcomes.append((question, best, answer_contains(result.text, question.answers)))
    best_row = None
    for threshold in sorted({b for _, b, _ in outcomes if b > float("-inf")}):
        correct = sum(q.answerable and ok and b >= threshold for q, b, ok in outcomes)
        abstained = sum(not q.answerable and b < threshold for q, b, _ in outcomes)
        false = sum(q.answerable and b < threshold for q, b, _ in outcomes)
        row = (correct + abstained, correct, false, abstained, threshold)
        if best_row is None or row[0] > best_row[0]:  # ties: the lowest threshold, as `rag eval`
            best_row = row
    answerable = sum(q.answerable for q, _, _ in outcomes)
    unanswerable = len(outcomes) - answerable
    _, correct, false, abstained, threshold = best_row
    return correct / answerable, false, abstained / unanswerable, threshold


def run_held_out(questions, index, settings, gates: bool = True) -> tuple[float, float, float]:
    """Accuracy answering everything; accuracy and coverage at the shipped threshold."""
    forced = dataclasses.replace(settings, threshold=float("-inf"))
    right, right_kept, kept = 0, 0, 0
    for question in questions:
        hits, candidates = score_sentences(question.question, index=index, settings=settings)
        ok = answer_contains(compose(question.question, hits, candidates, forced).text, question.answers)
        answered = not (gates and not could_answer(question.question, hits, candidates))
        answered = answered and bool(candidates) and confidence(candidates, settings) >= SETTINGS.threshold
        right += ok
        kept += answered
        right_kept += ok and answered
    return right / len(questions), right_kept / len(questions), kept / len(questions)


def beir_questions(folder: str, max_queries: int | None) -> tuple[list[Question], str]:
    """The answerable queries of a BEIR folder as dev-set questions, and its cached index."""
    from rag.beir import build_index, load_beir
    from rag.config import PROJECT_ROOT

    data = load_beir(folder)
    if not data.answers:
        raise SystemExit(f"{folder} has no answers.jsonl: answer accuracy needs gold answers")
    index = build_index(data, PROJECT_ROOT / ".cache" / "beir" / Path(folder).resolve().name)
    ids = [q for q in data.queries if data.answers.get(q)][:max_queries]
    questions = [Question(q, data.queries[q], "fact", (), ("|".join(data.answers[q]),)) for q in ids]
    return questions, str(index)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("devset", nargs="?", default=str(PROJECT / "eval" / "devset.jsonl"))
    parser.add_argument("--index")
    parser.add_argument("--beir", help="a BEIR folder with answers.jsonl (held-out questions)")
    parser.add_argument("--max-queries", type=int)
    args = parser.parse_args()
    if args.beir:
        questions, index = beir_questions(args.beir, args.max_queries)
    else:
        questions, index = load_devset(args.devset), args.index
    variants = {
        "shipped settings": (SETTINGS, True),
        "no embedding similarity": (dataclasses.replace(SETTINGS, similarity=0.0), True),
        "no keyword overlap": (dataclasses.replace(SETTINGS, overlap=0.0), True),
        "no carried keywords": (dataclasses.replace(SETTINGS, carried=0.0), True),
        "no name variants": (dataclasses.replace(SETTINGS, variant=0.0), True),
        "no list items rule": (dataclasses.replace(SETTINGS, enumeration=10**6), True),
        "no passage rank": (dataclasses.replace(SETTINGS, rank=0.0), True),
        "no question-type cue": (dataclasses.replace(SETTINGS, cue=0.0), True),
        "no margin in confidence": (dataclasses.replace(SETTINGS, margin=0.0), True),
        "no abstention gates": (SETTINGS, False),
    }
    if args.beir:
        print(f"{len(questions)} questions from {args.beir}")
        print(f"{'variant':26} {'all answered':>12} {'at threshold':>12} {'coverage':>8}")
        for name, (settings, gates) in variants.items():
            every, at_threshold, coverage = run_held_out(questions, index, settings, gates)
            print(f"{name:26} {every:12.3f} {at_threshold:12.3f} {coverage:8.3f}")
        return
    print(f"{'variant':26} {'accuracy':>8} {'false abst.':>11} {'abst. acc.':>10} {'threshold':>9}")
    for name, (settings, gates) in variants.items():
        accuracy, false, abstention, threshold = run(questions, index, settings, gates)
        print(f"{name:26} {accuracy:8.3f} {false:11d} {abstention:10.3f} {threshold:9.2f}")


if __name__ == "__main__":
    main()
