"""Calibrate and measure the check of generated sentences against their passages.

Reads the labelled (sentence, passage) pairs of ``eval/support_pairs.jsonl`` (written by
hand over the default corpus: supported paraphrases, and unsupported sentences of
several kinds: a wrong number, name or date, a negation, a contradiction, an invented
detail, a fact from another passage, an overreach), measures each pair with
``rag.generation.support``, and prints:

- the precision and recall of the shipped ``SupportSettings`` ("supported" is the
  positive class: precision = share of kept sentences that their passage supports;
  recall = share of supported sentences kept), with every miss named;
- the thresholds this script would choose (the highest F0.5 — precision counts twice
  as much as recall, since a kept unsupported sentence is the failure that matters —
  ties to the loosest), and leave-one-out precision and recall of that choice (each
  pair judged by thresholds chosen without it);
- per kind of pair, how many are judged right.

    .venv/bin/python scripts/calibrate_support.py [--pairs FILE] [--model all-MiniLM-L6-v2]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.embedding import get_embedder  # noqa: E402
from rag.generation.settings import SUPPORT, SupportSettings  # noqa: E402
from rag.generation.support import support, windows  # noqa: E402
from rag.types import Hit  # noqa: E402

SIMILARITIES = np.round(np.arange(0.30, 0.91, 0.01), 2)
COVERAGES = np.round(np.arange(0.0, 1.01, 0.05), 2)
BETA = 0.5


def load_pairs(path: Path) -> list[dict]:
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for pair in pairs:
        text = pair["passage"]
        pair["hit"] = Hit(rank=1, score=0.0, chunk_id=0, source=pair["source"], text=text, start=pair["start"],
                          end=pair["start"] + len(text), date=pair["date"])
    return pairs


def measure(pairs: list[dict], model: str) -> list:
    encoder = get_embedder(model)
    texts = sorted({p["sentence"] for p in pairs} | {p["hit"].text[s:e] for p in pairs for s, e in windows(p["hit"])})
    vectors = dict(zip(texts, encoder.encode_documents(texts)))
    return [support(p["sentence"], p["hit"], vectors) for p in pairs]


def scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    kept = predicted.sum()
    right = (predicted & truth).sum()
    precision = right / kept if kept else 1.0
    recall = right / truth.sum() if truth.sum() else 1.0
    f = (1 + BETA**2) * precision * recall / (BETA**2 * precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f)


def predict(measured, similarity: float, coverage: float) -> np.ndarray:
    settings = SupportSettings(min_similarity=similarity, min_coverage=coverage)
    return np.array([m.holds(settings) for m in measured])


def choose(measured, truth: np.ndarray) -> tuple[float, float, tuple[float, float, float]]:
    """The (similarity, coverage) thresholds with the best F0.5; ties go to the loosest."""
    best = None
    for similarity in SIMILARITIES:
        for coverage in COVERAGES:
            result = scores(predict(measured, similarity, coverage), truth)
            key = (round(result[2], 6), -similarity, -coverage)
            if best is None or key > best[0]:
                best = (key, float(similarity), float(coverage), result)
    return best[1], best[2], best[3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "eval" / "support_pairs.jsonl")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)
    truth = np.array([p["label"] == "supported" for p in pairs])
    measured = measure(pairs, args.model)
    print(f"{len(pairs)} pairs: {truth.sum()} supported, {(~truth).sum()} unsupported ({args.pairs.name})\n")

    shipped = np.array([m.holds(SUPPORT) for m in measured])
    precision, recall, f = scores(shipped, truth)
    print(f"shipped settings: similarity >= {SUPPORT.min_similarity}, coverage >= {SUPPORT.min_coverage}")
    print(f"  precision {precision:.3f} ({(shipped & truth).sum()} of {shipped.sum()} kept are supported)")
    print(f"  recall    {recall:.3f} ({(shipped & truth).sum()} of {truth.sum()} supported are kept)")
    print(f"  F0.5      {f:.3f}")
    wrong = [(p, m) for p, m, s, t in zip(pairs, measured, shipped, truth) if s != t]
    if wrong:
        print("  misjudged:")
        for p, m in wrong:
            verdict = "kept" if m.holds(SUPPORT) else f"removed ({m.why_not(SUPPORT)})"
            print(f"    {p['id']} {p['label']:<11} {p['kind']:<13} sim {m.similarity:.2f} cov {m.coverage:.2f} "
                  f"{verdict}: {p['sentence']}")

    by_kind: dict[str, Counter] = defaultdict(Counter)
    for p, s, t in zip(pairs, shipped, truth):
        by_kind[(p["label"], p["kind"])]["right" if s == t else "wrong"] += 1
    print("\n  by kind (judged right / pairs):")
    for (label, kind), count in sorted(by_kind.items()):
        print(f"    {label:<11} {kind:<14} {count['right']:>2} / {count['right'] + count['wrong']}")

    similarity, coverage, (p_all, r_all, f_all) = choose(measured, truth)
    print(f"\nchosen on all pairs: similarity >= {similarity}, coverage >= {coverage}: "
          f"precision {p_all:.3f}, recall {r_all:.3f}, F0.5 {f_all:.3f}")
    loo = np.zeros(len(pairs), dtype=bool)
    for i in range(len(pairs)):
        rest = [m for j, m in enumerate(measured) if j != i]
        s, c, _ = choose(rest, np.delete(truth, i))
        loo[i] = measured[i].holds(SupportSettings(min_similarity=s, min_coverage=c))
    p_loo, r_loo, f_loo = scores(loo, truth)
    print(f"leave-one-out (thresholds chosen without the pair judged): precision {p_loo:.3f}, recall {r_loo:.3f}, "
          f"F0.5 {f_loo:.3f}")

    gated = np.array([bool(m.missing) or m.negation_differs or m.overstates for m in measured])
    print(f"\nthe hard checks alone (numbers, dates, names, negation, hedges) remove {(gated & ~truth).sum()} of "
          f"{(~truth).sum()} unsupported and {(gated & truth).sum()} of {truth.sum()} supported sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
