"""Settings and default locations, in one place."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The built-in stand-in model (rag.hash_embedding): torch-free and instant, for tests and
# benchmarks of everything but the embedding. Never a default.
HASH_MODEL = "hash"


def default_index_path() -> Path:
    """The index ``search()`` opens when given none: $RAG_INDEX, else ``index/`` in the project."""
    return Path(os.environ.get("RAG_INDEX", PROJECT_ROOT / "index"))


def default_model() -> str:
    """The embedding model: $RAG_MODEL (``hash``, or a local sentence-transformers folder), else MiniLM."""
    return os.environ.get("RAG_MODEL", DEFAULT_MODEL)


def cache_path() -> Path:
    """Where derived model files (the ONNX query encoder) are kept: $RAG_CACHE, else ~/.cache/rag.

    Per user rather than per index, so one export serves every index built with the same weights.
    """
    if "RAG_CACHE" in os.environ:
        return Path(os.environ["RAG_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "rag"
