"""What each signal of the sentence score adds to answers on the dev set.

    .venv/bin/python scripts/answer_ablation.py [DEVSET] [--index DIR]

Each row drops one signal (its weight set to 0) or one rule, re-calibrates the
abstention threshold on the same questions, and reports accuracy, false abstentions
and abstention accuracy at that threshold, beside the shipped settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from rag.answer import SETTINGS, compose, confidence, could_answer, score_sentences  # noqa: E402
from rag.evaluation import answer_contains, load_devset  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("devset", nargs="?", default=str(PROJECT / "eval" / "devset.jsonl"))
    parser.add_argument("--index")
    args = parser.parse_args()
    questions = load_devset(args.devset)
    variants = {
        "shipped settings": (SETTINGS, True),
        "no embedding similarity": (dataclasses.replace(SETTINGS, similarity=0.0), True),
        "no keyword overlap": (dataclasses.replace(SETTINGS, overlap=0.0), True),
        "no passage rank": (dataclasses.replace(SETTINGS, rank=0.0), True),
        "no question-type cue": (dataclasses.replace(SETTINGS, cue=0.0), True),
        "no margin in confidence": (dataclasses.replace(SETTINGS, margin=0.0), True),
        "no abstention gates": (SETTINGS, False),
    }
    print(f"{'variant':26} {'accuracy':>8} {'false abst.':>11} {'abst. acc.':>10} {'threshold':>9}")
    for name, (settings, gates) in variants.items():
        accuracy, false, abstention, threshold = run(questions, args.index, settings, gates)
        print(f"{name:26} {accuracy:8.3f} {false:11d} {abstention:10.3f} {threshold:9.2f}")


if __name__ == "__main__":
    main()
