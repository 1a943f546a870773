"""Offline question answering over your own documents, with cited sources.

>>> from rag import search, answer                      # doctest: +SKIP
>>> hits = search("who granted Assad asylum?", k=5)     # doctest: +SKIP
>>> print(answer("who granted Assad asylum?").text)     # doctest: +SKIP

Importing this package is cheap: torch, faiss and gradio load only when used.
"""

from rag.answering import answer
from rag.errors import DocumentError, IndexFormatError, RagError
from rag.indexing import delete, sync
from rag.search import open_index, search
from rag.types import Answer, Chunk, Citation, Document, DocumentFacts, Hit, IndexInfo, SyncReport

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
