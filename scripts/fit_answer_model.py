"""Fit the answer model on the tuning half of SQuAD and write rag/answering/model.json.

    .venv/bin/python scripts/fit_answer_model.py [--beir ../shared/bench/squad2_cs224n] [--max-queries N]

Deterministic: the same data, index and code give the same file, bit for bit (the
split is a hash of each paragraph's id; the solver is lbfgs on the full data;
weights are rounded to 4 decimals). The held-out half is only reported, never fitted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from rag.answering.model import MODEL_FILE  # noqa: E402
import dataclasses  # noqa: E402

from rag.answering.training import (  # noqa: E402
    collect,
    collect_spans,
    fit,
    fit_short,
    held_out,
    short_held_out,
    span_reader,
    squad_questions,
)

SQUAD = PROJECT.parent / "shared" / "bench" / "squad2_cs224n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beir", default=str(SQUAD), help="a BEIR folder with answers.jsonl")
    parser.add_argument("--max-queries", type=int, help="use only the first N questions of each half")
    parser.add_argument("--output", default=str(MODEL_FILE), help="where to write the model")
    parser.add_argument("--workdir", type=Path, help="where the documents' index is cached (default .cache/beir/NAME)")
    args = parser.parse_args()

    tune, index = squad_questions(args.beir, "tune", args.max_queries, args.workdir)
    print(f"tuning half: {len(tune)} questions; running them as asked and with their paragraph hidden", file=sys.stderr)
    model = fit(collect(tune, index))
    print("fitting the short answers on the tuning half's best sentences", file=sys.stderr)
    read = span_reader(index)
    model = dataclasses.replace(model, short=fit_short(collect_spans(tune, index, model), read=read))
    held, _ = squad_questions(args.beir, "held-out", args.max_queries, args.workdir)
    report = held_out(model, collect(held, index))
    short = short_held_out(model.short, collect_spans(held, index, model), read)
    fitted = model.to_json()
    fitted["weights"] = [round(w, 4) for w in fitted["weights"]]
    for key in ("bias", "confidence_bias", "threshold"):
        fitted[key] = round(fitted[key], 4)
    fitted["confidence_weights"] = [round(w, 4) for w in fitted["confidence_weights"]]
    document = {
        "produced_by": "scripts/fit_answer_model.py",
        "data": f"{Path(args.beir).name}: tuning half, {len(tune)} questions (paragraph-id hash split)",
        "held_out": {
            "questions": report.questions,
            "best_sentence_right": round(report.all_answered, 4),
            "right_at_threshold": round(report.at_threshold, 4),
            "coverage": round(report.coverage, 4),
            "refused_with_paragraph_hidden": round(report.hidden_abstained, 4),
            "best_span_right": round(short.best_span_right, 4),
            "short_shown": round(short.shown, 4),
            "short_holds_gold": round(short.right, 4),
            "short_precision": round(short.precision, 4),
        },
        "fitted": fitted,
    }
    Path(args.output).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(document, indent=1))


if __name__ == "__main__":
    main()
