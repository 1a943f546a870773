"""The chat messages a language model is sent: the passages numbered [1]…[k], the conversation, the question."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.types import Answer, Hit

DECLINE = "The documents don't answer this."

SYSTEM = (
    "You answer questions using only the numbered passages the user gives you, never what you know "
    "otherwise. Write a short answer of one to four sentences. End every sentence with the number of the "
    "passage that says it, in square brackets, like [1] or [2][3]. Use only numbers of the passages given. "
    "Do not add anything the passages do not say. If the passages do not answer the question, reply with "
    f"exactly: {DECLINE}"
)

_MARKERS = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def passage_block(hits: Sequence[Hit]) -> str:
    """'[1] (2024-12-09, news.txt, page 2)\\n<text>' for each passage, blank lines between."""
    blocks = []
    for number, hit in enumerate(hits, start=1):
        where = [hit.date or "undated", hit.source]
        if hit.page:
            where.append(f"page {hit.page}")
        blocks.append(f"[{number}] ({', '.join(where)})\n{hit.text.strip()}")
    return "\n\n".join(blocks)


def build_messages(question: str, hits: Sequence[Hit], history: Sequence[Answer] = ()) -> list[dict]:
    """System instruction, the earlier turns (their citations dropped: they numbered other passages), then
    the passages and the question.

    >>> [m["role"] for m in build_messages("who?", [], [])]
    ['system', 'user']
    """
    messages: list[dict] = [{"role": "system", "content": SYSTEM}]
    for earlier in history:
        messages.append({"role": "user", "content": earlier.question})
        messages.append({"role": "assistant", "content": _MARKERS.sub("", earlier.text).strip()})
    passages = passage_block(hits) if hits else "(no passages were found)"
    messages.append({
        "role": "user",
        "content": f"Passages:\n\n{passages}\n\nQuestion: {question}\n\n"
                   "Answer from the passages only, with a [n] after every sentence.",
    })
    return messages
