"""The Gradio web app: a conversation with your documents, their sources, and the documents themselves.

Layout and handlers only; every answer, passage and index fact comes from ``rag``, the
conversation's moves from ``ui.conversation``, the HTML from ``ui.render``, uploads and
removals from ``ui.uploads``, and document text from ``ui.viewer``.

    python -m ui.app        # or `rag serve`, or `make run`: http://127.0.0.1:7860

Scripts call the running app through named endpoints (/ask, /search, /documents,
/delete_document, /add_documents, /info)::

    from gradio_client import Client
    Client("http://127.0.0.1:7860").predict("who granted Assad asylum?", api_name="/ask")
"""

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

# gradio is imported after ui/__init__.py has turned its analytics off.
import gradio as gr

from rag import RagError, answer, open_index
from rag.config import DEFAULT_CORPUS
from rag.generation import LLMServer
from rag.serialize import AnswerDict, HitDict
from ui.api import DocumentEntry, Endpoints, InfoDict, RemovalDict, UploadDict
from ui.assets import CARD_CSS, DOCUMENTS_JS, LAYOUT_CSS, SOURCES_JS, STATUS_JS
from ui.conversation import (
    DEFAULT_K,
    MAX_K,
    Filters,
    Turn,
    answer_turn,
    failed_turn,
    from_storage,
    parse_filters,
    rerun_all,
    rerun_last,
    stream_turn,
    restore,
    to_storage,
)
from ui.errors import plain
from ui.render import (
    chat_messages,
    render_documents,
    render_done,
    render_index_facts,
    render_no_index,
    render_problem,
    render_sources,
    render_upload_report,
)
from ui.uploads import (
    Recovery,
    add_documents,
    discard_uploads,
    max_upload_mb_from_env,
    recover_uploads,
    remove_document,
    uploads_folder,
)

log = logging.getLogger(__name__)


def corpus_examples() -> list[str]:
    """The default corpus's example questions: one a line in ``corpus/.examples.txt``
    (hidden, so it is never indexed as a document)."""
    path = DEFAULT_CORPUS / ".examples.txt"
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# System fonts only: a Google or bundled web font would be one more thing to fetch.
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
ALL_DOCUMENTS = "All documents"
TRANSFER_LIMIT_FACTOR = 4  # gradio receives files up to 4 times the upload limit, and no larger
DRAFT_EVERY = 0.15  # seconds between redraws of a generated answer while it is written

def _html_panel(value: str, elem_id: str, js: str | None = None, **kwargs) -> gr.HTML:
    """An HTML panel styled by the card CSS; its HTML comes from ui/render.py, escaped."""
    return gr.HTML(value, css_template=CARD_CSS, js_on_load=js, elem_id=elem_id, **kwargs)


def build_theme() -> gr.themes.Base:
    """Gradio's default theme in blue, with system fonts and every text at 4.5:1 contrast or more."""
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS).set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        block_info_text_color="*neutral_600",
        block_info_text_color_dark="*neutral_300",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
        link_text_color="*primary_700",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover_dark="*primary_700",
        link_text_color_dark="*primary_300",
    )


def _filters_label(filters: Filters) -> str:
    """The Filters heading says what is in force, so a collapsed panel hides nothing."""
    dates = "any date"
    if filters.date_from or filters.date_to:
        dates = f"{filters.date_from or '…'} to {filters.date_to or '…'}"
    return f"Filters: {filters.source or 'all documents'}, {dates}, {filters.k} passages"


# -- the app -------------------------------------------------------------------------


class _App(gr.Blocks):
    """Blocks whose ``launch()`` defaults to this app's theme, CSS, upload limit and footer.

    Gradio 6 takes the theme and CSS in ``launch()``; keeping them here means every way
    of starting the app (``serve()``, tests, ``demo.launch()``) looks the same.
    """

    launch_defaults: dict[str, Any] = {}

    def launch(self, *args, **kwargs):
        for key, value in self.launch_defaults.items():
            kwargs.setdefault(key, value)
        return super().launch(*args, **kwargs)


def build_demo(
    index: "str | Path | None" = None,
    uploads: Path | None = None,
    max_upload_mb: float | None = None,
    examples: list[str] | None = None,
    llm: LLMServer | None = None,
) -> gr.Blocks:
    """The app over the index at ``index`` (default: the project's), opened on first request.

    Args:
        uploads: where uploaded files are kept (default ``<index folder>/uploads``).
        max_upload_mb: per-file limit (default $RAG_MAX_UPLOAD_MB, else 50).
        examples: clickable questions; by default the default corpus's own, and only
            for the default index (they would mean nothing over other documents).
        llm: a language model server that writes the answers (shown as it writes, then
            replaced by the checked version); None quotes them.

    >>> build_demo("my-index/").launch()   # doctest: +SKIP
    """
    if examples is None:
        examples = corpus_examples() if index is None else []
    limit = max_upload_mb if max_upload_mb is not None else max_upload_mb_from_env()
    if limit <= 0:
        raise ValueError(f"max_upload_mb={limit!r} must be a positive number of MB")
    hint = f"for example “{examples[0]}”" if examples else "for example “what does the report conclude?”"

    # -- reading the index ------------------------------------------------------------

    def documents_view() -> tuple[str, str, list[tuple[str, str]]]:
        """Index facts, the documents list and the document filter's choices, from the live index."""
        try:
            store = open_index(index)
        except RagError as error:
            return render_no_index(error), render_documents([]), [(ALL_DOCUMENTS, "")]
        facts = store.document_facts()
        folder = uploads_folder(index, uploads).resolve()
        uploaded = [d.source for d in facts if Path(d.folder).resolve() == folder]
        choices = [(ALL_DOCUMENTS, "")] + [(d.source, d.source) for d in facts]
        return render_index_facts(store.info()), render_documents(facts, uploaded), choices

    def conversation_view(turns: list[Turn]) -> tuple[list[dict], str, list[Turn], list[dict]]:
        return chat_messages(turns), render_sources(turns), turns, to_storage(turns)

    # -- handlers -----------------------------------------------------------------------

    def on_ask(question: str, k: float, date_from: str, date_to: str, source: str, turns: list[Turn],
               stored: Any = None):
        """The answer, or with a language model its draft as it is written, then the checked answer."""
        question = (question or "").strip()
        if not question:
            problem = render_problem(f"Type a question first, {hint}.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), problem, gr.skip()
            return
        turns = restore(turns, stored, index=index)
        try:
            filters = parse_filters(k, date_from, date_to, source)
        except gr.Error as error:
            yield *conversation_view([*turns, failed_turn(question, Filters(), error)]), "", "", gr.skip()
            return
        label = gr.update(label=_filters_label(filters))
        if llm is None:
            yield *conversation_view([*turns, answer_turn(question, filters, turns, index=index)]), "", "", label
            return
        shown = 0.0
        for turn in stream_turn(question, filters, turns, index=index, llm=llm):
            if turn.draft is None:
                yield *conversation_view([*turns, turn]), "", "", label
            elif time.monotonic() - shown >= DRAFT_EVERY:
                shown = time.monotonic()
                yield chat_messages([*turns, turn]), gr.skip(), gr.skip(), gr.skip(), "", "", gr.skip()

    def on_example(k: float, date_from: str, date_to: str, source: str, turns: list[Turn], stored: Any,
                   event: gr.SelectData):
        value = event.value
        question = value.get("text", "") if isinstance(value, dict) else str(value or "")
        yield from on_ask(question, k, date_from, date_to, source, turns, stored)

    def on_filters(k: float, date_from: str, date_to: str, source: str, turns: list[Turn], stored: Any = None):
        turns = restore(turns, stored, index=index)
        try:
            filters = parse_filters(k, date_from, date_to, source)
        except gr.Error as error:
            problem = render_problem(f"Check the filters: {plain(error)}")
            if not turns:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), problem, gr.skip()
            return *conversation_view(rerun_last(turns, error, index=index, llm=llm)), problem, gr.skip()
        label = gr.update(label=_filters_label(filters))
        if not turns or (turns[-1].filters == filters and turns[-1].error is None):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), "", label
        return *conversation_view(rerun_last(turns, filters, index=index, llm=llm)), "", label

    def on_new():
        return *conversation_view([]), "", ""

    def on_load(stored: Any):
        turns = from_storage(stored, index=index, llm=llm)
        facts, documents, choices = documents_view()
        filters = turns[-1].filters if turns else Filters()
        widgets = (
            filters.k,
            filters.date_from or "",
            filters.date_to or "",
            gr.update(choices=choices, value=filters.source or ""),
            gr.update(label=_filters_label(filters)),
        )
        return *conversation_view(turns), facts, documents, *widgets

    def on_upload(files, source: str, progress=gr.Progress()):
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()

        def report_progress(fraction: float, message: str) -> None:
            progress(fraction, desc=message)

        try:
            report = add_documents(files, index=index, uploads=uploads, max_upload_mb=limit, progress=report_progress)
        except gr.Error as error:
            return render_problem(plain(error)), *documents_view()[:2], gr.skip(), None
        finally:  # saved in the uploads folder or refused: gradio's copies are no longer needed
            discard_uploads(files, demo.GRADIO_CACHE)
        facts, documents, choices = documents_view()
        still = source if source in {value for _, value in choices} else ""
        return render_upload_report(report), facts, documents, gr.update(choices=choices, value=still), None

    def on_remove(source: str, event: gr.EventData):
        """Removes the document; ``on_removed`` then asks the conversation again without it.

        Two steps, because a removal queues with uploads (it may wait for the index's write
        lock, or for an upload of the same name): in the conversation's queue it would hold up
        every user's questions meanwhile.
        """
        data = event._data if isinstance(event._data, dict) else {}
        target = str(data.get("source", ""))
        try:
            removal = remove_document(target, index=index, uploads=uploads)
        except gr.Error as error:
            facts, documents, choices = documents_view()
            return render_problem(plain(error)), facts, documents, gr.update(choices=choices), ""
        gone = "; its uploaded file was deleted" if removal.upload_deleted else "; its file stays where it is"
        passages = f"{removal.passages} passage{'s' * (removal.passages != 1)}"
        status = render_done(f"Removed {removal.source} ({passages}) from the index{gone}.")
        facts, documents, choices = documents_view()
        keep = "" if source == removal.source else source
        return status, facts, documents, gr.update(choices=choices, value=keep), removal.source

    def on_removed(removed: str, turns: list[Turn], stored: Any):
        if not removed:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        turns = [
            Turn(t.question, Filters(t.filters.k, t.filters.date_from, t.filters.date_to,
                                     None if t.filters.source == removed else t.filters.source))
            for t in restore(turns, stored, index=index)
        ]
        return conversation_view(rerun_all(turns, index=index, llm=llm))

    # -- endpoints for scripts (typed here: gradio documents them from these signatures) ----

    endpoints = Endpoints(index, uploads, limit, hint, llm, upload_cache=lambda: demo.GRADIO_CACHE)

    def ask_endpoint(
        question: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "",
        history: list[str] | None = None, source: str = "",
    ) -> AnswerDict:
        """Answer a question from the indexed documents, as a follow-up of `history` (earlier questions, oldest first).

        Returns {question, question_used, text, short, found, strength, confidence, mode, unsupported, note,
        citations: [{marker, quote, source, page, date, start, end, passage}],
        passages: [{rank, score, chunk_id, source, page, date, start, end, text}]}.
        """
        return endpoints.ask(question, k, date_from, date_to, history, source)

    def search_endpoint(query: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "",
                        source: str = "") -> list[HitDict]:
        """The k passages that best match the query, best first: [{rank, score, chunk_id, source, page, date, start, end, text}]."""
        return endpoints.search(query, k, date_from, date_to, source)

    def documents_endpoint() -> list[DocumentEntry]:
        """Every indexed document: [{source, kind, pages, passages, date_from, date_to, added, folder, uploaded}]."""
        return endpoints.documents()

    def delete_document_endpoint(source: str) -> RemovalDict:
        """Remove one document from the index (an upload's file is deleted too): {source, passages_removed, upload_deleted}."""
        return endpoints.delete_document(source)

    def add_documents_endpoint(files, progress=gr.Progress()) -> UploadDict:
        """Add .txt, .md or .pdf files: {files: [{name, status, reason}], sync: {added, updated, removed, unchanged, skipped, chunks_added, chunks_removed, chunks_embedded, warnings} or null}."""
        return endpoints.add_documents(files, progress=lambda fraction, message: progress(fraction, desc=message))

    def info_endpoint() -> InfoDict:
        """Facts about the index: {index (its folder), documents, chunks, model, dimension, size_bytes, updated}."""
        return endpoints.info()

    def passage_context(args: list) -> dict:
        return endpoints.passage_context(args)

    def document_view(args: list) -> dict:
        return endpoints.document_view(args)

    # -- layout ---------------------------------------------------------------------------

    with _App(title="Ask your documents", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        turns_state = gr.State([])
        stored = gr.BrowserState([], storage_key="rag-conversation")
        with gr.Column(elem_id="rag-header"):
            gr.Markdown(
                "# Ask your documents\n"
                + ("Answers are sentences quoted from the indexed documents, each cited [n] so you can "
                   "check it; ask follow-up questions. Everything runs on this machine." if llm is None else
                   f"Answers are written by {llm.model} from the indexed documents; every sentence is then "
                   "checked against the passage it cites [n], and removed when that passage doesn't say it. "
                   "Ask follow-up questions.")
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320, elem_id="rag-chat-column"):
                with gr.Accordion(_filters_label(Filters()), open=False, elem_id="rag-filters") as filters_box:
                    with gr.Row():
                        date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", min_width=120,
                                               elem_id="rag-date-from")
                        date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", min_width=120,
                                             elem_id="rag-date-to")
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages to search", elem_id="rag-k")
                    source = gr.Dropdown(choices=[(ALL_DOCUMENTS, "")], value="", label="Documents to ask",
                                         elem_id="rag-source")
                chat = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    elem_id="rag-chat",
                    height="min(60vh, 560px)",
                    examples=[{"text": q} for q in examples] or None,
                    placeholder="Ask a question to get an answer quoted from your documents.",
                    buttons=[],
                    feedback_options=None,
                    render_markdown=False,
                    latex_delimiters=[],
                    sanitize_html=True,
                    group_consecutive_messages=False,
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Question",
                        show_label=False,
                        container=False,
                        placeholder="Ask a question",
                        lines=1,
                        max_lines=1,
                        scale=6,
                        min_width=160,
                        autofocus=True,
                        elem_id="rag-question",
                    )
                    ask_button = gr.Button("Ask", variant="primary", scale=0, min_width=80, elem_id="rag-ask")
                    new_button = gr.Button("New conversation", variant="secondary", scale=0, min_width=200,
                                           elem_id="rag-new")
                status = gr.HTML("", js_on_load=STATUS_JS, css_template=CARD_CSS, elem_id="rag-status")
            with gr.Column(scale=2, min_width=300, elem_id="rag-sources-column"):
                sources = _html_panel(render_sources([]), "rag-sources", SOURCES_JS,
                                      server_functions=[passage_context, document_view])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                with gr.Accordion("Documents", open=True, elem_id="rag-documents-box"):
                    facts_html = _html_panel('<p class="rag-empty">Loading…</p>', "rag-facts")
                    documents_html = _html_panel("", "rag-documents", DOCUMENTS_JS)
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Add documents", open=True, elem_id="rag-add"):
                    gr.Markdown(
                        f"Drop .txt, .md or .pdf files (up to {limit:g} MB each): they are indexed at once.",
                        elem_id="rag-upload-note",
                    )
                    files = gr.File(label="Documents to add", show_label=False, file_count="multiple",
                                    type="filepath", height=120, elem_id="rag-files")
                    report_html = _html_panel("", "rag-report")
        with gr.Column(visible=False):  # the /add_documents endpoint for scripts; gradio checks the files
            api_files = gr.File(label="files", file_count="multiple", type="filepath")
            api_report = gr.JSON(label="report")
            api_add = gr.Button("Add", visible=False)

        # -- events ---------------------------------------------------------------------------

        conversation = [chat, sources, turns_state, stored]
        filters_in = [k, date_from, date_to, source]
        # One conversation event at a time: each reads the conversation (gr.State) when it starts and
        # writes it when it ends, so two at once (a filter's blur and its Enter) would lose a turn or
        # show an older answer last. An answer takes tens of milliseconds; scripts' /ask runs apart.
        asking = {"concurrency_limit": 1, "concurrency_id": "conversation", "api_visibility": "private"}
        gr.on(
            triggers=[question.submit, ask_button.click],
            fn=on_ask,
            inputs=[question, *filters_in, turns_state, stored],
            outputs=[*conversation, question, status, filters_box],
            **asking,
        )
        chat.example_select(on_example, inputs=[*filters_in, turns_state, stored],
                            outputs=[*conversation, question, status, filters_box], **asking)
        # k.change too: a slider moved by the keyboard has no release event, and once in seven runs
        # of the browser tests its input event left the old k in place; on_filters skips when the
        # filters equal the last question's, so the change that restoring a conversation makes
        # costs nothing.
        gr.on(
            triggers=[date_from.submit, date_from.blur, date_to.submit, date_to.blur, k.input, k.release, k.change,
                      source.input],
            fn=on_filters,
            inputs=[*filters_in, turns_state, stored],
            outputs=[*conversation, status, filters_box],
            trigger_mode="always_last",
            **asking,
        )
        gr.on(triggers=[new_button.click, chat.clear], fn=on_new, outputs=[*conversation, status, question],
              **asking)
        demo.load(on_load, inputs=[stored],
                  outputs=[*conversation, facts_html, documents_html, k, date_from, date_to, source, filters_box],
                  **asking)
        # Uploads and removals run side by side (ui/uploads.py: they take turns per file name, and
        # the index is locked only while each change is written), so one big upload doesn't hold
        # up the others; a few at once, as each embedding takes both cores while it runs.
        indexing = {"concurrency_limit": 3, "concurrency_id": "index"}
        files.upload(on_upload, inputs=[files, source],
                     outputs=[report_html, facts_html, documents_html, source, files],
                     api_visibility="private", **indexing)
        removed = gr.State("")
        documents_html.select(
            on_remove, inputs=[source], outputs=[status, facts_html, documents_html, source, removed],
            api_visibility="private", **indexing,
        ).then(on_removed, inputs=[removed, turns_state, stored], outputs=conversation, **asking)
        api_add.click(add_documents_endpoint, inputs=[api_files], outputs=[api_report], api_name="add_documents",
                      **indexing)
        gr.api(ask_endpoint, api_name="ask", concurrency_limit=4, concurrency_id="ask")
        gr.api(search_endpoint, api_name="search", concurrency_limit=4, concurrency_id="ask")
        gr.api(documents_endpoint, api_name="documents")
        gr.api(delete_document_endpoint, api_name="delete_document", **indexing)
        gr.api(info_endpoint, api_name="info")

    demo.launch_defaults = {
        "theme": build_theme(),
        "css": LAYOUT_CSS,
        # Gradio refuses a whole upload when one file is over its max_file_size, so it only stops
        # absurd sizes; the limit itself is checked file by file (ui/uploads.py), each with its reason.
        "max_file_size": f"{int(limit * TRANSFER_LIMIT_FACTOR * 1_000_000)}b",
        # Gradio keeps ~70 kB of state per session, and a script's plain-HTTP call is a session of
        # its own: the default (10,000 sessions) let memory grow by ~700 MB under load (see README).
        "state_session_capacity": max_sessions_from_env(),
        "footer_links": ["api", "settings"],
    }
    return demo


DEFAULT_MAX_SESSIONS = 1000


def max_sessions_from_env(default: int = DEFAULT_MAX_SESSIONS) -> int:
    """How many sessions' state the server keeps: $RAG_MAX_SESSIONS when a positive integer, else ``default``.

    Past it, the least recently used session's server state is dropped; a browser then
    restores its conversation from what it keeps itself (see ``restore``).
    """
    raw = os.environ.get("RAG_MAX_SESSIONS", "").strip()
    if not raw:
        return default
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    log.warning("RAG_MAX_SESSIONS=%r is not a positive whole number; using %s", raw, default)
    return default


WARM_UP_QUESTION = "what is this about?"


def warm_up(index: "str | Path | None" = None) -> None:
    """Open the index and load the models now (the parser that reads short answers
    too), so that the first question is answered at once."""
    from rag.parsing import warm

    try:
        answer(WARM_UP_QUESTION, 1, index=index, mode="extract")
        store = open_index(index)
        warm(store.manifest.tagger, store.path)
    except RagError as error:  # no index yet: the app starts anyway, and uploads start one
        log.warning("no index to warm up: %s", error)


def recover(index: "str | Path | None" = None) -> Recovery:
    """Clean up after a server killed mid-upload, and index uploads it left unindexed; says what it did."""
    recovery = recover_uploads(index=index)
    for line in recovery.messages():
        log.warning("at start: %s", line)
    return recovery


def serve(
    host: str = "127.0.0.1", port: int = 7860, index: "str | Path | None" = None, llm: LLMServer | None = None
) -> None:
    """Load the index and the model, then start the app on http://host:port and block.

    Before that, whatever a killed server left in the uploads folder is cleaned up and
    indexed (see ``recover``). It listens on loopback only unless told otherwise; the
    address is printed once the app is ready to answer. With ``llm``, answers are written
    by that server and checked.
    """
    print("Loading the index and the model…", file=sys.stderr, flush=True)
    warm_up(index)
    recover(index)
    if llm is not None:
        print(f"Answers are written by {llm.model} at {llm.url} and checked against their sources.",
              file=sys.stderr, flush=True)
    app = _demo() if index is None and llm == DEMO_LLM else build_demo(index, llm=llm)
    app.launch(server_name=host, server_port=port)


# `python -m ui.app` takes its language model server, if any, from $RAG_LLM_URL and $RAG_LLM_MODEL.
DEMO_LLM = LLMServer.from_env()
_default_demo: list[gr.Blocks] = []


def _demo() -> gr.Blocks:
    if not _default_demo:
        _default_demo.append(build_demo(llm=DEMO_LLM))
    return _default_demo[0]


def __getattr__(name: str) -> Any:
    """``ui.app.demo``, the app over the default index, is built on first use (0.4-0.8 s),
    so ``rag serve --index X``, which builds its own, never pays for it."""
    if name == "demo":
        return _demo()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    serve()
