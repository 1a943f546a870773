"""Settings and default locations, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

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


def default_tagger() -> str:
    """The entity tagger of new indexes: $RAG_TAGGER (``rules`` or ``none``), else spaCy."""
    return os.environ.get("RAG_TAGGER", "spacy")


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one file may cause; a file over any of them is refused, with a message.

    Each can be set in the environment (the name in the comment) or passed to
    ``sync(..., limits=Limits(...))``. Why these defaults (``scripts/hostile_inputs.py``
    measures them):

    - ``max_chars``: 5 million characters of extracted text per file, about 2,500 pages
      of prose. A novel is 0.5–1 M, *War and Peace* in English 3.2 M. Embedding on this
      project's 2-core machine manages 16 passages a CPU-second, so a file at the limit
      (about 10,000 passages) takes 5 to 30 minutes to index, by load; a 200 MB text file
      (about 4 hours) is refused before it is even read.
    - ``max_pages``: 5,000 pages per PDF, three times a long book; a PDF of 30,000 blank
      pages is refused before any page is read.
    - ``max_ratio``: 10 characters of text per byte of file. Text files have at most 1;
      real PDFs here have 0.2–0.3 and the densest text-only PDFs we could make (compressed,
      no fonts embedded) 1.8; compression bombs have dozens to hundreds.
    """

    max_chars: int = 5_000_000  # $RAG_MAX_CHARS
    max_pages: int = 5_000  # $RAG_MAX_PAGES
    max_ratio: float = 10.0  # $RAG_MAX_TEXT_RATIO

    @classmethod
    def from_env(cls) -> "Limits":
        """The defaults, overridden by $RAG_MAX_CHARS, $RAG_MAX_PAGES and $RAG_MAX_TEXT_RATIO."""
        default = cls()
        return cls(
            max_chars=int(_env_number("RAG_MAX_CHARS", default.max_chars)),
            max_pages=int(_env_number("RAG_MAX_PAGES", default.max_pages)),
            max_ratio=_env_number("RAG_MAX_TEXT_RATIO", default.max_ratio, whole=False),
        )


def _env_number(name: str, default: float, whole: bool = True) -> float:
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = -1
    if not value > 0:
        example = f"{name}={default:g}"
        raise RagError(f"{name}={os.environ[name]!r} is not a positive {'whole ' if whole else ''}number; "
                       f"set it like {example}, or unset it for the default")
    return value


def cache_path() -> Path:
    """Where derived model files (the ONNX query encoder) are kept: $RAG_CACHE, else ~/.cache/rag.

    Per user rather than per index, so one export serves every index built with the same weights.
    """
    if "RAG_CACHE" in os.environ:
        return Path(os.environ["RAG_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "rag"
