"""The ``hash`` model: feature hashing of words and word pairs, a torch-free stand-in.

Not a semantic model: two texts are close only when they share words. It exists so
that tests and benchmarks of everything around the embedding (chunking, storage,
fusion, answer selection) run in milliseconds without torch. Never a default.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

DIMENSION = 384  # MiniLM's, so an index of either model has the same shape
_QUERY_CACHE_SIZE = 1024
_WORD = re.compile(r"\w+")


def _slot(feature: str) -> tuple[int, float]:
    """Bucket and sign of a feature; blake2b, not hash(), which is salted per process."""
    digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
    # The sign bit makes colliding features cancel out on average instead of piling up
    # (Weinberger et al., "Feature hashing for large scale multitask learning", 2009).
    return digest % DIMENSION, (1.0 if (digest >> 63) & 1 else -1.0)


class HashEncoder:
    """Unigrams and bigrams of lower-cased words, hashed into 384 signed buckets, L2-normalised.

    >>> encoder = HashEncoder()
    >>> round(float(encoder.encode_documents(["harbour reopened"])[0] @ encoder.encode_query("harbour reopened")[0]), 6)
    1.0
    """

    model_name = "hash"
    dimension = DIMENSION

    def __init__(self) -> None:
        self.encode_query = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_query)
        self._slots = functools.lru_cache(maxsize=1 << 20)(_slot)  # words and word pairs of a big corpus

    def _vector(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        if not features:
            return np.zeros(DIMENSION, dtype="float32")  # no words: the zero vector, similar to nothing
        buckets, signs = zip(*map(self._slots, features))
        # Sums of ±1 are exact in any order, so one bincount equals adding feature by feature.
        vector = np.bincount(buckets, weights=signs, minlength=DIMENSION).astype("float32")
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def _encode_query(self, query: str) -> np.ndarray:
        vector = self._vector(query).reshape(1, -1)
        vector.setflags(write=False)  # cached: nobody may change it in place
        return vector

    def encode_documents(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype="float32")
        return np.stack([self._vector(text) for text in texts])
