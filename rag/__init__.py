"""Offline question answering over your own documents, with cited sources.

>>> from rag import search, answer                      # doctest: +SKIP
>>> hits = search("who granted Assad asylum?", k=5)     # doctest: +SKIP
>>> print(answer("who granted Assad asylum?").text)     # doctest: +SKIP

Importing this package is cheap: torch, faiss and gradio load only when used.
"""

from typing import TYPE_CHECKING

from rag.errors import DocumentError, IndexFormatError, RagError
from rag.search import open_index, search
from rag.types import Answer, Chunk, Citation, Document, DocumentFacts, Hit, IndexInfo, SyncReport

if TYPE_CHECKING:
    from rag.answering import answer
    from rag.indexing import delete, sync

# Loaded on first use, so that a script that only searches doesn't import them (~0.1-0.2 s).
_LAZY = {"answer": "rag.answering", "sync": "rag.indexing", "delete": "rag.indexing"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "DocumentFacts",
    "DocumentError",
    "Hit",
    "IndexFormatError",
    "IndexInfo",
    "RagError",
    "SyncReport",
    "answer",
    "delete",
    "open_index",
    "search",
    "sync",
]
