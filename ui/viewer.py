"""The text around a passage, and a whole document, read back from the file it was indexed from.

The index keeps passages only; a citation's offsets point into the file's extracted
text (``rag.documents.load_documents``), so that is what is shown. A file that moved,
or changed since it was indexed, is reported as such instead of showing the wrong text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from rag import Chunk, Document, RagError, open_index
from rag.documents import load_documents

AROUND_CHARS = 700  # at most this much text is shown on each side of a passage


class Unavailable(Exception):
    """Why the text can't be shown, worded for the reader."""


@dataclass(frozen=True)
class Located:
    """A passage and the text of the file (page) it came from."""

    chunk: Chunk
    pages: tuple[Document, ...]  # one for a text file, one per page for a PDF
    text: str  # the passage's own page
    before: int  # where the passage before it (same page) starts; chunk.start when there is none
    after: int  # where the passage after it ends; chunk.end when there is none


@functools.lru_cache(maxsize=8)
def _load(path: str, source: str, mtime_ns: int, size: int) -> tuple[Document, ...]:
    """A file's documents, kept while the file is unchanged (its mtime and size are the key)."""
    documents, _ = load_documents(Path(path), source)
    return tuple(documents)


def locate(chunk_id: int, *, index=None) -> Located:
    """The passage ``chunk_id`` of the live index and its file's text, checked against each other."""
    try:
        store = open_index(index)
        chunk = store.chunk(int(chunk_id))
        root = store.documents()[chunk.source]
    except (KeyError, ValueError, TypeError):
        raise Unavailable("This passage is no longer in the index; ask again to see the current sources.") from None
    except RagError as error:
        raise Unavailable(str(error)) from None
    path = Path(root) / chunk.source
    try:
        stat = path.stat()
        pages = _load(str(path), chunk.source, stat.st_mtime_ns, stat.st_size)
    except OSError:
        raise Unavailable(f"{chunk.source} is no longer at {path}; only its indexed passages remain.") from None
    except RagError as error:
        raise Unavailable(f"{chunk.source} can't be read any more: {error}") from None
    page = next((d for d in pages if d.page == chunk.page), None)
    if page is None or page.text[chunk.start : chunk.end] != chunk.text:
        raise Unavailable(
            f"{chunk.source} has changed since it was indexed; add it again (or re-index its folder) to read it here."
        )
    same_page = [c for c in store.chunks_of(chunk.source) if c.page == chunk.page]
    before = max((c.start for c in same_page if c.start < chunk.start), default=chunk.start)
    after = min(((c.start, c.end) for c in same_page if c.start > chunk.start), default=(0, chunk.end))[1]
    return Located(chunk, pages, page.text, before, max(after, chunk.end))


def around(text: str, start: int, end: int, before: int, after: int, width: int = AROUND_CHARS) -> tuple[int, int]:
    """The span of ``text`` to show around the passage ``[start, end)``: from ``before`` (where the
    passage before it starts) to ``after`` (where the one after it ends), at most ``width``
    characters on each side, cut at a space."""
    left, right = min(before, start), max(after, end)
    if start - left > width:
        left = start - width
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right - end > width:
        right = end + width
        space = text.rfind(" ", end, right)
        right = space if space > end else right
    return left, right
