"""What the app's named endpoints (/ask, /search, /documents, /delete_document, /add_documents,
/info) and the sources panel's server functions do, over one index.

Plain data in and out (``rag.serialize`` shapes); a mistake is a ``gr.Error`` that says what
to do, which scripts receive as ``gradio_client.exceptions.AppError``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, TypedDict

from rag import RagError, open_index, search
from rag.generation import LLMServer
from rag.serialize import (
    AnswerDict,
    DocumentDict,
    HitDict,
    SyncReportDict,
    answer_to_dict,
    document_to_dict,
    hit_to_dict,
    report_to_dict,
)
from ui.conversation import answers_for, parse_filters
from ui.errors import mistake, user_error
from ui.render import render_around, render_document, render_problem
from ui.uploads import add_documents, discard_uploads, remove_document, uploads_folder
from ui.viewer import Unavailable, locate

MAX_QUOTES = 20  # quote spans a card may send for highlighting


class DocumentEntry(DocumentDict):
    uploaded: bool  # added through the app: removing it deletes its file from the uploads folder


class RemovalDict(TypedDict):
    source: str
    passages_removed: int
    upload_deleted: bool


class FileDict(TypedDict):
    name: str
    status: str  # "added", "updated", "unchanged" or "failed"
    reason: str


class UploadDict(TypedDict):
    files: list[FileDict]
    sync: SyncReportDict | None


class InfoDict(TypedDict):
    index: str
    documents: int
    chunks: int
    model: str
    dimension: int
    size_bytes: int
    updated: str


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """The endpoints of one app: its index, uploads folder, upload limit and empty-question hint."""

    index: "str | Path | None" = None
    uploads: "str | Path | None" = None
    max_upload_mb: float = 50.0
    hint: str = "for example “what does the report conclude?”"
    llm: LLMServer | None = None  # writes the answers to /ask (the earlier questions of its history are quoted)
    upload_cache: "Callable[[], str | Path] | None" = None  # gradio's upload folder, emptied after each upload

    def ask(self, question: str, k: Any, date_from: str, date_to: str, history: Any, source: str) -> AnswerDict:
        """``history`` (earlier questions, oldest first) answered in order, then ``question`` after them."""
        question = (question or "").strip()
        if not question:
            raise mistake(f"Type a question first, {self.hint}.", "No question")
        if history is None:
            history = []
        if not isinstance(history, list):
            raise mistake("history must be a list of the earlier questions, oldest first.")
        filters = parse_filters(k, date_from, date_to, source)
        return answer_to_dict(answers_for(history, question, filters, index=self.index, llm=self.llm))

    def search(self, query: str, k: Any, date_from: str, date_to: str, source: str) -> list[HitDict]:
        if not (query or "").strip():
            raise mistake("Type a query first, for example a few words the passage should hold.", "No query")
        filters = parse_filters(k, date_from, date_to, source)
        try:
            hits = search(query, filters.k, index=self.index, date_from=filters.date_from,
                          date_to=filters.date_to, source=filters.source)
        except (ValueError, RagError) as error:
            raise user_error(error) from None
        return [hit_to_dict(hit) for hit in hits]

    def documents(self) -> list[DocumentEntry]:
        try:
            store = open_index(self.index)
        except RagError as error:
            raise user_error(error) from None
        folder = uploads_folder(self.index, self.uploads).resolve()
        return [
            DocumentEntry(**document_to_dict(d), uploaded=Path(d.folder).resolve() == folder)
            for d in store.document_facts()
        ]

    def delete_document(self, source: str) -> RemovalDict:
        removal = remove_document((source or "").strip(), index=self.index, uploads=self.uploads)
        return RemovalDict(source=removal.source, passages_removed=removal.passages,
                           upload_deleted=removal.upload_deleted)

    def add_documents(self, files, progress: "Callable[[float, str], None] | None" = None) -> UploadDict:
        try:
            report = add_documents(files, index=self.index, uploads=self.uploads, max_upload_mb=self.max_upload_mb,
                                   progress=progress)
        finally:  # saved in the uploads folder or refused: gradio's copies are no longer needed
            if self.upload_cache is not None:
                discard_uploads(files, self.upload_cache())
        return UploadDict(
            files=[FileDict(name=f.name, status=f.status, reason=f.reason) for f in report.files],
            sync=report_to_dict(report.sync) if report.sync is not None else None,
        )

    def info(self) -> InfoDict:
        try:
            facts = dataclasses.asdict(open_index(self.index).info())
        except RagError as error:
            raise user_error(error) from None
        return InfoDict(index=facts.pop("path"), **facts)  # "path" would make gradio_client download it

    # -- called from the sources panel's JavaScript, with [chunk_id, [[start, end], ...]] --

    def passage_context(self, args: Any) -> dict:
        """``{html}``: the passage with the passages around it, its quotes highlighted."""
        try:
            located, quotes = self._locate(args)
        except Unavailable as error:
            return {"html": render_problem(str(error))}
        return {"html": render_around(located, quotes)}

    def document_view(self, args: Any) -> dict:
        """``{title, html}``: the whole document, the passage marked and its quotes highlighted."""
        try:
            located, quotes = self._locate(args)
        except Unavailable as error:
            return {"title": "Document", "html": render_problem(str(error))}
        return {"title": located.chunk.source, "html": render_document(located, quotes)}

    def _locate(self, args: Any):
        """The passage and quote spans a card sent (untrusted: anything malformed is refused)."""
        if not isinstance(args, list) or not args or isinstance(args[0], bool) or not isinstance(args[0], int):
            raise Unavailable("This passage can't be shown: reload the page and try again.")
        quotes = []
        for item in args[1] if len(args) > 1 and isinstance(args[1], list) else []:
            if isinstance(item, list) and len(item) == 2 and all(type(n) is int for n in item):
                quotes.append((item[0], item[1]))
        return locate(args[0], index=self.index), quotes[:MAX_QUOTES]
