"""The Gradio web app: ask a question, read the cited answer, add documents.

Layout and handlers only; every answer, passage and index fact comes from ``rag``,
the HTML from ``ui.render``, and adding uploads from ``ui.uploads``.

    python -m ui.app        # or `rag serve`, or `make run`: http://127.0.0.1:7860

Scripts can call the running app (``ask``, ``search`` and ``info`` are named endpoints)::

    from gradio_client import Client
    Client("http://127.0.0.1:7860").predict("who granted Assad asylum?", api_name="/ask")
"""

import dataclasses
from pathlib import Path
from typing import Any

# gradio is imported after ui/__init__.py has turned its analytics off.
import gradio as gr

from rag import Answer, Hit, RagError, answer, open_index, search
from rag.config import DEFAULT_CORPUS
from ui.errors import mistake, user_error
from ui.render import CARD_CSS, render_answer, render_index_facts, render_no_index, render_passages, render_report
from ui.uploads import UPLOAD_SUFFIXES, add_documents, max_upload_mb_from_env, safe_filename, upload_path


def corpus_examples() -> list[str]:
    """The default corpus's example questions: one a line in ``corpus/.examples.txt``
    (hidden, so it is never indexed as a document)."""
    path = DEFAULT_CORPUS / ".examples.txt"
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


DEFAULT_K = 5
MAX_K = 20

# System fonts only: a Google or bundled web font would be one more thing to fetch.
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

LAYOUT_CSS = """
#rag-header h1 { margin-bottom: 0.1em; }
#rag-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.rag-flush .html-container { padding: 0; }
#rag-question textarea, #rag-question input { font-size: var(--text-lg); padding: 0.6em 0.8em; }
#rag-upload-note p { margin: 0; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
"""


# -- validation --------------------------------------------------------------------


def _k(k: Any) -> int:
    try:
        value = int(k)
        whole = float(k) == value and not isinstance(k, bool)
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or not 1 <= value <= MAX_K:
        raise mistake(f"The number of passages must be a whole number from 1 to {MAX_K}.", "Can't do that")
    return value


def _date(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# -- asking ------------------------------------------------------------------------


def ask_question(question: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "", *, index=None) -> Answer:
    """Call ``rag.answer``, turning every mistake a user can make into a ``gr.Error``."""
    question = (question or "").strip()
    if not question:
        raise mistake("Type a question first, for example “when did the harbour reopen?”", "No question")
    k = _k(k)
    try:
        return answer(question, k, index=index, date_from=_date(date_from), date_to=_date(date_to))
    except (ValueError, RagError) as error:
        raise user_error(error) from None


def ask(question: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "", *, index=None) -> tuple[str, str]:
    """The answer with its citation cards, and every retrieved passage, as HTML."""
    result = ask_question(question, k, date_from, date_to, index=index)
    return render_answer(result), render_passages(result)


def ask_json(question: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "", *, index=None) -> dict:
    """The answer as plain data: text, found, citations and passages (JSON-able)."""
    result = ask_question(question, k, date_from, date_to, index=index)
    return {
        "question": result.question,
        "text": result.text,
        "found": result.found,
        "citations": [
            {
                "marker": c.marker,
                "quote": c.quote,
                "date": c.hit.date,
                "source": c.hit.source,
                "page": c.hit.page,
                "score": c.hit.score,
                "start": c.start,
                "end": c.end,
            }
            for c in result.citations
        ],
        "passages": [_hit_json(hit) for hit in result.hits],
    }


def _hit_json(hit: Hit) -> dict:
    return {
        "rank": hit.rank,
        "score": hit.score,
        "date": hit.date,
        "source": hit.source,
        "page": hit.page,
        "start": hit.start,
        "end": hit.end,
        "text": hit.text,
    }


# -- index facts and JSON endpoints ------------------------------------------------


def index_facts(index=None) -> str:
    """Documents, passages, model and last update of the index, as HTML."""
    try:
        info = open_index(index).info()
    except RagError as error:
        return render_no_index(error)
    return render_index_facts(info)


def info_json(index=None) -> dict:
    """IndexInfo as a dict, with ``path`` renamed ``index``: gradio_client downloads any dict holding a "path"."""
    try:
        facts = dataclasses.asdict(open_index(index).info())
    except RagError as error:
        raise user_error(error) from None
    return {"index": facts.pop("path"), **facts}


def search_json(query: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "", *, index=None) -> list[dict]:
    if not (query or "").strip():
        raise mistake("Type a query first, for example “harbour reopened”.", "No query")
    try:
        hits = search(query, _k(k), index=index, date_from=_date(date_from), date_to=_date(date_to))
    except (ValueError, RagError) as error:
        raise user_error(error) from None
    return [_hit_json(hit) for hit in hits]


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


def _card_panel(elem_id: str, placeholder: str) -> gr.HTML:
    """An HTML panel styled by the card CSS; its HTML comes from ui/render.py, escaped."""
    return gr.HTML(placeholder, css_template=CARD_CSS, js_on_load=None, elem_id=elem_id, elem_classes=["rag-flush"])


def build_theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def build_demo(
    index: "str | Path | None" = None,
    uploads: Path | None = None,
    max_upload_mb: float | None = None,
    examples: list[str] | None = None,
) -> gr.Blocks:
    """The app over the index at ``index`` (default: the project's), opened on first request.

    Args:
        uploads: where uploaded files are kept (default ``<index folder>/uploads``).
        max_upload_mb: per-file limit (default $RAG_MAX_UPLOAD_MB, else 50).
        examples: clickable questions; by default the default corpus's own, and only
            for the default index (they would mean nothing over other documents).

    >>> build_demo("my-index/").launch()   # doctest: +SKIP
    """
    if examples is None:
        examples = corpus_examples() if index is None else []
    limit = max_upload_mb if max_upload_mb is not None else max_upload_mb_from_env()
    if limit <= 0:
        raise ValueError(f"max_upload_mb={limit!r} must be a positive number of MB")

    def on_ask(question: str, k: float, date_from: str, date_to: str):
        result = ask_question(question, k, date_from, date_to, index=index)
        label = f"All retrieved passages ({len(result.hits)})"
        return render_answer(result), render_passages(result), gr.update(label=label)

    def on_add(files, progress=gr.Progress()):
        def report_progress(fraction: float, message: str) -> None:
            progress(fraction, desc=message)

        report = add_documents(files, index=index, uploads=uploads, max_upload_mb=limit, progress=report_progress)
        uploaded = [safe_filename(upload_path(file).name) for file in files]
        return render_report(report, uploaded), index_facts(index), None

    def on_load():
        return index_facts(index)

    def ask_endpoint(question: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "") -> dict:
        """Answer a question from the indexed documents.

        Returns {question, text, found, citations: [{marker, quote, date, source, page, score,
        start, end}], passages: [{rank, score, date, source, page, start, end, text}]}.
        """
        return ask_json(question, k, date_from, date_to, index=index)

    def search_endpoint(query: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "") -> list[dict]:
        """The k passages that best match the query, best first."""
        return search_json(query, k, date_from, date_to, index=index)

    def info_endpoint() -> dict:
        """Facts about the index: index (its folder), documents, chunks, model, dimension, size_bytes, updated."""
        return info_json(index)

    with _App(title="Ask your documents", analytics_enabled=False) as demo:
        with gr.Column(elem_id="rag-header"):
            gr.Markdown(
                "# Ask your documents\n"
                "Answers are sentences quoted from the indexed documents; each is cited [n] "
                "so you can check it. Everything runs on this machine."
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Question",
                        show_label=False,
                        container=False,
                        placeholder="Ask a question, then press Enter",
                        lines=1,
                        max_lines=1,
                        scale=6,
                        min_width=160,
                        autofocus=True,
                        elem_id="rag-question",
                    )
                    ask_button = gr.Button("Ask", variant="primary", scale=0, min_width=96, elem_id="rag-ask")
                example_list = (
                    gr.Examples(examples=[[q] for q in examples], inputs=[question], label="Examples")
                    if examples
                    else None
                )
                answer_html = _card_panel(
                    "rag-answer", '<p class="rag-empty">Ask a question to get an answer quoted from your documents.</p>'
                )
                with gr.Accordion("All retrieved passages", open=False, elem_id="rag-passages-box") as passages_box:
                    passages_html = _card_panel("rag-passages", '<p class="rag-empty">Nothing retrieved yet.</p>')
            with gr.Column(scale=1, min_width=280):
                with gr.Accordion("Filters", open=True, elem_id="rag-filters"):
                    with gr.Row():
                        date_from = gr.Textbox(
                            label="From date", placeholder="YYYY-MM-DD", min_width=110, elem_id="rag-date-from"
                        )
                        date_to = gr.Textbox(
                            label="To date", placeholder="YYYY-MM-DD", min_width=110, elem_id="rag-date-to"
                        )
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages to search", elem_id="rag-k")
                with gr.Accordion("Add documents", open=True, elem_id="rag-add"):
                    gr.Markdown(f".txt, .md or .pdf files, up to {limit:g} MB each.", elem_id="rag-upload-note")
                    files = gr.File(
                        label="Documents to add",
                        show_label=False,
                        file_count="multiple",
                        file_types=list(UPLOAD_SUFFIXES),
                        type="filepath",
                        height=120,
                        elem_id="rag-files",
                    )
                    add_button = gr.Button("Add to index", variant="secondary", elem_id="rag-add-button")
                    report_html = _card_panel("rag-report", "")
                with gr.Accordion("Index", open=True, elem_id="rag-index"):
                    facts_html = _card_panel("rag-facts", '<p class="rag-empty">Loading…</p>')

        ask_inputs = [question, k, date_from, date_to]
        ask_outputs = [answer_html, passages_html, passages_box]
        gr.on(
            triggers=[question.submit, ask_button.click],
            fn=on_ask,
            inputs=ask_inputs,
            outputs=ask_outputs,
            api_visibility="private",
            concurrency_limit=4,
            concurrency_id="ask",
        )
        if example_list is not None:
            example_list.load_input_event.then(
                on_ask,
                inputs=ask_inputs,
                outputs=ask_outputs,
                api_visibility="private",
                concurrency_limit=4,
                concurrency_id="ask",
            )
        add_button.click(
            on_add,
            inputs=[files],
            outputs=[report_html, facts_html, files],
            api_name="add_documents",
            concurrency_limit=1,
            concurrency_id="index",
        )
        demo.load(on_load, outputs=[facts_html], api_visibility="private")
        gr.api(ask_endpoint, api_name="ask", concurrency_limit=4, concurrency_id="ask")
        gr.api(search_endpoint, api_name="search", concurrency_limit=4, concurrency_id="ask")
        gr.api(info_endpoint, api_name="info")

    demo.launch_defaults = {
        "theme": build_theme(),
        "css": LAYOUT_CSS,
        "max_file_size": f"{int(limit * 1_000_000)}b",
        "footer_links": ["api", "settings"],
    }
    return demo


def serve(host: str = "127.0.0.1", port: int = 7860, index: "str | Path | None" = None) -> None:
    """Start the app on http://host:port (loopback only unless told otherwise) and block."""
    app = demo if index is None else build_demo(index)
    app.launch(server_name=host, server_port=port)


demo = build_demo()

if __name__ == "__main__":
    serve()
