"""Every generated sentence checked against the passages it cites.

A sentence is kept only when it cites at least one passage that was in the prompt and
one of those passages supports it (``rag.generation.support``). Its citations are then
repaired: each points at the best supporting sentence of a passage that does support it,
so the app highlights the words that say it; cited passages that don't are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.generation.claims import Claim, split_claims
from rag.generation.settings import SUPPORT, SupportSettings
from rag.generation.support import Support, support, windows
from rag.types import Hit

# "The documents don't answer this.", "I don't know.", "The passages do not mention …":
# a model declining to answer, not a claim to check.
_DECLINES = re.compile(
    r"\b(?:documents?|passages?|sources?|context|texts?|information)\b.{0,40}\b(?:do(?:es)?\s*n[o’']t|cannot|can[’']t|"
    r"no)\b.{0,30}\b(?:answer|say|state|mention|contain|provide|specify|include|information)|"
    r"^\s*I\s+(?:do\s*n[o’']t|cannot|can[’']t)\s+(?:know|answer|find)|\bnot\s+(?:mentioned|stated|specified)\b",
    re.I,
)


@dataclass(frozen=True)
class Checked:
    """One generated sentence and what the check found."""

    claim: Claim
    supports: tuple[Support, ...]  # the cited passages that support it, best first; empty: removed
    reason: str  # why it was removed ("" when kept)
    declines: bool = False  # the model saying the documents don't answer

    @property
    def kept(self) -> bool:
        return bool(self.supports)


def check(generated: str, hits: Sequence[Hit], encoder, settings: SupportSettings = SUPPORT) -> list[Checked]:
    """Each sentence of ``generated`` checked against ``hits`` ([1] is ``hits[0]``).

    ``encoder`` embeds texts (``encode_documents``, L2-normalised rows), the project's
    own sentence encoder.
    """
    claims = split_claims(generated)
    cited = {
        id(claim): [hits[n - 1] for n in claim.markers if 1 <= n <= len(hits)] for claim in claims
    }
    texts = {claim.text for claim in claims}
    for passages in cited.values():
        for hit in passages:
            texts.update(hit.text[s:e] for s, e in windows(hit))
    vectors = _embed(encoder, sorted(texts))
    result = []
    for claim in claims:
        passages = list(dict.fromkeys(cited[id(claim)]))
        if not passages:
            declines = bool(_DECLINES.search(claim.text))
            reason = "it cites no passage" if not claim.markers else (
                f"it cites [{', '.join(map(str, claim.markers))}], but only [1]–[{len(hits)}] were given")
            result.append(Checked(claim, (), reason, declines=declines))
            continue
        scored = [support(claim.text, hit, vectors) for hit in passages]
        holding = sorted((s for s in scored if s.holds(settings)), key=lambda s: -s.similarity)
        reason = "" if holding else max(scored, key=lambda s: s.similarity).why_not(settings)
        result.append(Checked(claim, tuple(holding), reason, declines=bool(_DECLINES.search(claim.text))))
    return result


def _embed(encoder, texts: list[str]) -> dict[str, np.ndarray]:
    if not texts:
        return {}
    vectors = np.asarray(encoder.encode_documents(texts), dtype="float32")
    return dict(zip(texts, vectors))
