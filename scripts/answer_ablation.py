"""What each signal and rule of the answer adds, measured on questions it was never fitted on.

    .venv/bin/python scripts/answer_ablation.py [--beir ../shared/bench/squad2_cs224n] [--max-queries N (held-out questions, evenly spread)]
    .venv/bin/python scripts/answer_ablation.py --devset eval/devset.jsonl [--index DIR]

For SQuAD (the default), each variant drops one feature of the sentence model or
of the short-answer model (the model is refitted without it on the tuning half) or switches off one selection rule or gate, and is
measured on the held-out half through the real answer(): accuracy of the answer
text when every question is answered ("all answered"), answered-and-right at the
variant's fitted threshold, coverage, how often the short answer holds the gold,
and how often it refuses when the question's paragraph is hidden (an unanswerable
stand-in). With --devset, the same variants are reported on a dev set (its own
accuracy, false abstentions and abstention accuracy; never used for fitting).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from rag.answering import RULES, Rules, attempt, decide  # noqa: E402
from rag.answering.candidates import FEATURES  # noqa: E402
from rag.answering.model import load_model  # noqa: E402
from rag.answering.spans import SPAN_FEATURES  # noqa: E402
from rag.answering.training import (  # noqa: E402
    CONFIDENCE_FEATURES, collect, collect_spans, fit, fit_short, span_reader, squad_questions,
)
from rag.evaluation import answer_contains, evaluate_devset, load_devset  # noqa: E402
from rag.settings import ANSWER  # noqa: E402

SQUAD = PROJECT.parent / "shared" / "bench" / "squad2_cs224n"


def variants(refit, refit_short):
    """(name, model, rules, gates): the shipped answer, then one thing off at a time."""
    shipped = load_model()
    rows = [("shipped", shipped, RULES, True)]
    rows += [(f"no {feature}", refit(feature), RULES, True) for feature in FEATURES]
    rows.append(("no corroborating runner-up", refit(None, corroboration=False), RULES, True))
    rows.append(("confidence without length", refit(None, confidence_features=()), RULES, True))
    rows += [
        (f"no span {feature}", dataclasses.replace(shipped, short=refit_short(feature)), RULES, True)
        for feature in SPAN_FEATURES
    ]
    rows.append(("no second reading of spans", dataclasses.replace(shipped, short=refit_short(None)), RULES, True))
    rows += [
        (f"no {rule} rule", shipped, dataclasses.replace(RULES, **{rule: False}), True)
        for rule in (f.name for f in dataclasses.fields(Rules))
    ]
    rows.append(("no unmentioned-name gate", shipped, RULES, False))
    return rows


def held_out_row(questions, index, model, rules, gates, hidden_runs) -> tuple[float, float, float, float, float]:
    """All answered, right at threshold, coverage, short answer right, refused when hidden."""
    import numpy as np

    from rag.answering import Attempt
    from rag.answering.training import decisions

    open_settings = dataclasses.replace(ANSWER, threshold=float("-inf"))
    every = right = answered = short = 0
    for _, text, gold, _ in questions:
        tried = attempt(text, index=index, model=model)
        if not gates:
            tried = dataclasses.replace(tried, gated=False)
        wanted = ("|".join(gold),)
        forced = decide(text, tried, open_settings, rules, model)
        result = decide(text, tried, ANSWER, rules, model)
        every += answer_contains(forced.text, wanted)
        right += result.found and answer_contains(result.text, wanted)
        answered += result.found
        short += bool(result.short) and answer_contains(result.short, wanted)
    runs = hidden_runs if gates else [dataclasses.replace(r, gated=False) for r in hidden_runs]
    refused = [not d.answered for d in decisions(model, runs)]
    n = len(questions)
    return every / n, right / n, answered / n, short / n, float(np.mean(refused)) if refused else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beir", default=str(SQUAD))
    parser.add_argument("--max-queries", type=int)
    parser.add_argument("--devset", help="report the variants on a dev set instead")
    parser.add_argument("--index", help="the dev set's index (default: the project's)")
    parser.add_argument("--workdir", type=Path, help="where the SQuAD index is cached (default .cache/beir/NAME)")
    args = parser.parse_args()

    # The variants are refitted on the whole tuning half, as the shipped model was, so
    # that a dropped feature is compared like for like; --max-queries thins only the
    # held-out half, evenly, so that every article keeps its share.
    tune, index = squad_questions(args.beir, "tune", None, args.workdir)
    tune_runs = collect(tune, index)

    def refit(feature, corroboration=True, confidence_features=CONFIDENCE_FEATURES):
        # The sentence model without it; the shipped short-answer model on top.
        features = tuple(f for f in FEATURES if f != feature)
        return dataclasses.replace(fit(tune_runs, features, corroboration, confidence_features), short=load_model().short)

    # The short-answer model is refitted on the spans of the shipped sentence model's best
    # sentences, as the shipped one was, without one span feature at a time.
    span_runs = collect_spans(tune, index, load_model())

    read = span_reader(index)

    def refit_short(feature):  # None: all span features, without the second reading (fill gains)
        if feature is None:
            return fit_short(span_runs)
        return fit_short(span_runs, tuple(f for f in SPAN_FEATURES if f != feature), read)

    rows = variants(refit, refit_short)
    if args.devset:
        questions = load_devset(args.devset)
        print(f"{len(questions)} questions from {args.devset} (never fitted on)")
        print(f"{'variant':28} {'accuracy':>8} {'false abst.':>11} {'abst. acc.':>10} {'short':>6}")
        for name, model, rules, gates in rows:
            report = evaluate_devset(questions, index=args.index, rules=rules, model=model, gates=gates)
            short = f"{report.short_accuracy:6.3f}" if report.short_accuracy is not None else f"{'-':>6}"
            print(f"{name:28} {report.accuracy:8.3f} {report.false_abstentions:11d} {report.abstention_accuracy:10.3f} {short}")
        return
    held, _ = squad_questions(args.beir, "held-out", None, args.workdir)
    if args.max_queries and args.max_queries < len(held):
        held = held[:: -(-len(held) // args.max_queries)]
    hidden_runs = [r for r in collect(held, index) if r.hidden and not r.answerable]
    print(f"held-out half of {Path(args.beir).name}: {len(held)} questions, {len(hidden_runs)} hidden-paragraph runs")
    print(f"{'variant':28} {'all answered':>12} {'at threshold':>12} {'coverage':>8} {'short':>6} {'refused hidden':>14}")
    for name, model, rules, gates in rows:
        every, right, coverage, short, refused = held_out_row(held, index, model, rules, gates, hidden_runs)
        print(f"{name:28} {every:12.3f} {right:12.3f} {coverage:8.3f} {short:6.3f} {refused:14.3f}")


if __name__ == "__main__":
    main()
