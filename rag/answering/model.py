"""The fitted answer model: how the features combine, and when to abstain.

Two logistic regressions, fitted by scripts/fit_answer_model.py on the tuning half
of the SQuAD 2.0 questions in ../shared/bench/squad2_cs224n (split by a hash of the
paragraph's id, so no paragraph serves both halves), and saved in model.json:

- ``sentence``: the probability that a sentence holds the answer, from its features;
- ``confidence``: the probability that the best sentence is right, from the best
  probability and its lead over the runner-up; the answer abstains below ``threshold``.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from rag.answering.candidates import FEATURES, logistic
from rag.errors import RagError

MODEL_FILE = Path(__file__).with_name("model.json")
MODEL_VERSION = 1


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    confidence_weights: tuple[float, float]  # on (logit of the best, its lead in logits over the runner-up)
    confidence_bias: float
    threshold: float  # abstain when the confidence is below it

    def score(self, features: tuple[float, ...]) -> float:
        """The sentence's log-odds of holding the answer."""
        return self.bias + sum(w * x for w, x in zip(self.weights, features))

    def probability(self, features: tuple[float, ...]) -> float:
        return logistic(self.score(features))

    def confidence(self, best: float, runner_up: float | None) -> float:
        """Probability that the best sentence answers, from its score and its lead (log-odds)."""
        lead = best - runner_up if runner_up is not None else 5.0
        w_best, w_lead = self.confidence_weights
        return logistic(self.confidence_bias + w_best * best + w_lead * min(lead, 5.0))

    def without(self, feature: str) -> "AnswerModel":
        """The same model with one feature's weight set to zero (for ablations)."""
        weights = tuple(0.0 if name == feature else w for name, w in zip(self.features, self.weights))
        return AnswerModel(self.features, weights, self.bias, self.confidence_weights, self.confidence_bias, self.threshold)

    def to_json(self) -> dict:
        return {
            "version": MODEL_VERSION,
            "features": list(self.features),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "confidence_weights": [round(w, 6) for w in self.confidence_weights],
            "confidence_bias": round(self.confidence_bias, 6),
            "threshold": round(self.threshold, 6),
        }

    @classmethod
    def from_json(cls, data: dict) -> "AnswerModel":
        if data.get("version") != MODEL_VERSION or tuple(data["features"]) != FEATURES:
            raise RagError(
                "rag/answering/model.json does not match this version's features; "
                "refit it: python scripts/fit_answer_model.py"
            )
        return cls(
            features=tuple(data["features"]),
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            confidence_weights=tuple(float(w) for w in data["confidence_weights"]),
            confidence_bias=float(data["confidence_bias"]),
            threshold=float(data["threshold"]),
        )


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None) -> AnswerModel:
    """The fitted model (rag/answering/model.json unless another file is given)."""
    file = Path(path) if path else MODEL_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RagError(f"cannot read the answer model {file} ({error}); refit it: python scripts/fit_answer_model.py") from error
    fitted = data.get("fitted", data)
    return AnswerModel.from_json(fitted)


def logit(probability: float) -> float:
    probability = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(probability / (1 - probability))
