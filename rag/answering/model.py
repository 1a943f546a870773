"""The fitted answer model: how the features combine, and when to abstain.

Two logistic regressions, fitted by scripts/fit_answer_model.py on the tuning half
of the SQuAD 2.0 questions in ../shared/bench/squad2_cs224n (split by a hash of the
paragraph's id, so no paragraph serves both halves), and saved in model.json:

- ``sentence``: the probability that a sentence holds the answer, from its features;
- ``confidence``: the probability that the best sentence is right, from the best
  probability, its lead over the runner-up and its length; the answer abstains below
  ``threshold``;
- ``short`` (a ``ShortModel``): which words of the best sentence answer (rag/answering/spans.py).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from rag.answering.candidates import FEATURES, logistic
from rag.answering.spans import SPAN_FEATURES
from rag.errors import RagError

MODEL_FILE = Path(__file__).with_name("model.json")
MODEL_VERSION = 4


@dataclass(frozen=True)
class ShortModel:
    """Which span of the best sentence is the short answer, and whether to show it.

    ``weights`` rank a sentence's candidate spans (a softmax over them, so no bias);
    ``fill_weights`` rank the best ``FILL_TOP`` of them again, from that score and the
    span's fill gain (rag/answering/spans.py: fill_gains); the calibration turns the
    best span's final score, its lead over the runner-up and the answer's confidence
    into the probability that it holds the answer; it is shown from ``threshold`` up.
    """

    features: tuple[str, ...]
    weights: tuple[float, ...]
    calibration_weights: tuple[float, float, float]  # on (best score, its lead, logit of the answer's confidence)
    calibration_bias: float
    threshold: float
    fill_weights: tuple[float, float] = (1.0, 0.0)  # on (score, fill gain); (1, 0): no second reading

    def score(self, features: tuple[float, ...]) -> float:
        return sum(w * x for w, x in zip(self.weights, features))

    def rescore(self, score: float, fill_gain: float) -> float:
        """A best span's final score, once the embedding model has read it in place."""
        w_score, w_fill = self.fill_weights
        return w_score * score + w_fill * fill_gain

    def probability(self, best: float, runner_up: float | None, confidence: float) -> float:
        lead = best - runner_up if runner_up is not None else 5.0
        w_best, w_lead, w_confidence = self.calibration_weights
        return logistic(self.calibration_bias + w_best * best + w_lead * min(lead, 5.0) + w_confidence * logit(confidence))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "weights": [round(w, 4) for w in self.weights],
            "calibration_weights": [round(w, 4) for w in self.calibration_weights],
            "calibration_bias": round(self.calibration_bias, 4),
            "threshold": round(self.threshold, 4),
            "fill_weights": [round(w, 4) for w in self.fill_weights],
        }

    @classmethod
    def from_json(cls, data: dict) -> "ShortModel":
        if tuple(data["features"]) != SPAN_FEATURES:
            raise _stale("short-answer features")
        return cls(
            features=tuple(data["features"]),
            weights=tuple(float(w) for w in data["weights"]),
            calibration_weights=tuple(float(w) for w in data["calibration_weights"]),
            calibration_bias=float(data["calibration_bias"]),
            threshold=float(data["threshold"]),
            fill_weights=tuple(float(w) for w in data["fill_weights"]),
        )


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    # On (logit of the best, its lead in logits over the runner-up, then each of the best
    # sentence's ``confidence_features``).
    confidence_weights: tuple[float, ...]
    confidence_bias: float
    threshold: float  # abstain when the confidence is below it
    short: ShortModel | None = None  # None: no short answers but lists' and dates'
    # The runner-up that the best sentence's lead is measured against passes over sentences
    # naming the same answer: two sentences that agree corroborate it rather than compete
    # (a fact reported twice, in two entries or two documents).
    corroboration: bool = False
    confidence_features: tuple[str, ...] = ()  # the best sentence's own features the confidence reads

    def score(self, features: tuple[float, ...]) -> float:
        """The sentence's log-odds of holding the answer."""
        return self.bias + sum(w * x for w, x in zip(self.weights, features))

    def probability(self, features: tuple[float, ...]) -> float:
        return logistic(self.score(features))

    def confidence(self, best: float, runner_up: float | None, features: tuple[float, ...]) -> float:
        """Probability that the best sentence answers, from its score and its lead (log-odds)
        and ``features``, its features (those named in ``confidence_features`` are read)."""
        lead = best - runner_up if runner_up is not None else 5.0
        w_best, w_lead, *w_own = self.confidence_weights
        own = [features[self.features.index(name)] for name in self.confidence_features]
        return logistic(
            self.confidence_bias + w_best * best + w_lead * min(lead, 5.0) + sum(w * x for w, x in zip(w_own, own))
        )

    def runner_up(self, scores, keys) -> float | None:
        """The score the best candidate's lead is measured against, from the candidates'
        scores (best first) and the answers each names; None when no other competes."""
        for score, named in zip(scores[1:], keys[1:]):
            if not (self.corroboration and agree(named, keys[0])):
                return float(score)
        return None

    def without(self, feature: str) -> "AnswerModel":
        """The same model with one feature's weight set to zero (for ablations)."""
        weights = tuple(0.0 if name == feature else w for name, w in zip(self.features, self.weights))
        return dataclasses.replace(self, weights=weights)

    def to_json(self) -> dict:
        return {
            "version": MODEL_VERSION,
            "features": list(self.features),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "confidence_weights": [round(w, 6) for w in self.confidence_weights],
            "confidence_bias": round(self.confidence_bias, 6),
            "confidence_features": list(self.confidence_features),
            "threshold": round(self.threshold, 6),
            "corroboration": self.corroboration,
            **({"short": self.short.to_json()} if self.short is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict) -> "AnswerModel":
        if data.get("version") != MODEL_VERSION or tuple(data["features"]) != FEATURES:
            raise _stale("features")
        return cls(
            features=tuple(data["features"]),
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            confidence_weights=tuple(float(w) for w in data["confidence_weights"]),
            confidence_bias=float(data["confidence_bias"]),
            threshold=float(data["threshold"]),
            short=ShortModel.from_json(data["short"]) if "short" in data else None,
            corroboration=bool(data.get("corroboration", False)),
            confidence_features=tuple(data.get("confidence_features", ())),
        )


def _stale(what: str) -> RagError:
    return RagError(f"rag/answering/model.json does not match this version's {what}; refit it: python scripts/fit_answer_model.py")


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


def agree(names: frozenset[str], others: frozenset[str]) -> bool:
    """Whether two sentences name a same answer: one name's words within the other's, as a
    name is repeated in short ("Mount Everest", then "Everest")."""
    for name in names:
        words = set(name.split())
        for other in others:
            other_words = set(other.split())
            if words <= other_words or other_words <= words:
                return True
    return False


def logit(probability: float) -> float:
    probability = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(probability / (1 - probability))
