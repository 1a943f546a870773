"""The Gradio web app: ask a question, read the cited answer, add documents.

Layout and handlers only; every answer, passage and index fact comes from ``rag``.
Document text is untrusted: all of it is HTML-escaped before any markup is added.

    python -m ui.app        # or `rag serve`, or `make run`: http://127.0.0.1:7860

Scripts can call the running app (``ask``, ``search`` and ``info`` are named endpoints)::

    from gradio_client import Client
    Client("http://127.0.0.1:7860").predict("who granted Assad asylum?", api_name="/ask")
"""

import dataclasses
import html
import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable

# Before gradio is imported: no telemetry, no version check, nothing leaves this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import Answer, Hit, RagError, SyncReport, answer, open_index, search, sync  # noqa: E402
from rag.config import DEFAULT_CORPUS, default_index_path  # noqa: E402

log = logging.getLogger(__name__)

def corpus_examples() -> list[str]:
    """The default corpus's example questions: one a line in ``corpus/.examples.txt``
    (hidden, so it is never indexed as a document)."""
    path = DEFAULT_CORPUS / ".examples.txt"
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


UPLOAD_SUFFIXES = (".txt", ".md", ".pdf")
DEFAULT_K = 5
MAX_K = 20
DEFAULT_MAX_UPLOAD_MB = 50.0
CLOSEST_WHEN_NOT_FOUND = 3

# System fonts only: a Google or bundled web font would be one more thing to fetch.
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

# Scoped to each gr.HTML that shows answers or passages; gradio's variables keep dark mode readable.
# Gradio evaluates css_template as a JS template string: no backslashes, backticks or "${" here.
CARD_CSS = """
.rag-h { font-size: var(--text-md); font-weight: 600; margin: 1.1em 0 0.45em; color: var(--body-text-color); }
.rag-empty { color: var(--body-text-color-subdued); margin: 0.4em 0; }
.rag-answer { border: 1px solid var(--border-color-accent-subdued, var(--color-accent));
  border-left: 4px solid var(--color-accent); border-radius: var(--radius-lg); padding: 0.8em 1em;
  background: var(--block-background-fill); }
.rag-answer.rag-not-found { border-color: var(--border-color-primary);
  border-left-color: var(--body-text-color-subdued); }
.rag-answer-text { font-size: var(--text-lg); line-height: 1.55; margin: 0; color: var(--body-text-color);
  overflow-wrap: anywhere; }
.rag-note { margin: 0.5em 0 0; color: var(--body-text-color-subdued); font-size: var(--text-sm); }
.rag-marker { font-weight: 600; color: var(--color-accent); white-space: nowrap; }
.rag-cards { display: flex; flex-direction: column; gap: 0.6em; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: 0.65em 0.9em;
  background: var(--block-background-fill); }
.rag-meta { display: flex; flex-wrap: wrap; gap: 0.25em 0.9em; align-items: baseline; font-size: var(--text-sm);
  color: var(--body-text-color-subdued); margin-bottom: 0.35em; }
.rag-meta .rag-marker, .rag-meta .rag-rank { font-size: var(--text-md); }
.rag-rank { font-weight: 600; color: var(--body-text-color); }
.rag-source { font-family: var(--font-mono); overflow-wrap: anywhere; }
.rag-passage { margin: 0; white-space: pre-wrap; line-height: 1.5; color: var(--body-text-color);
  overflow-wrap: anywhere; }
.rag-passage mark { background: #fde68a; color: #1c1917; border-radius: 3px; padding: 0.05em 0.15em; }
.rag-facts { display: grid; grid-template-columns: auto 1fr; gap: 0.2em 0.8em; margin: 0; font-size: var(--text-sm); }
.rag-facts dt { color: var(--body-text-color-subdued); }
.rag-facts dd { margin: 0; color: var(--body-text-color); overflow-wrap: anywhere; }
.rag-report { font-size: var(--text-sm); line-height: 1.5; color: var(--body-text-color); }
.rag-report p { margin: 0.2em 0; }
.rag-report ul { margin: 0.3em 0 0 1.2em; padding: 0; }
.rag-report .rag-warn { color: var(--color-red-600, #b45309); }
"""

LAYOUT_CSS = """
#rag-header h1 { margin-bottom: 0.1em; }
#rag-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.rag-flush .html-container { padding: 0; }
#rag-question textarea, #rag-question input { font-size: var(--text-lg); padding: 0.6em 0.8em; }
#rag-upload-note p { margin: 0; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
"""


# -- validation --------------------------------------------------------------------


def max_upload_mb_from_env(default: float = DEFAULT_MAX_UPLOAD_MB) -> float:
    """The upload size limit: $RAG_MAX_UPLOAD_MB when set to a positive number, else ``default``."""
    raw = os.environ.get("RAG_MAX_UPLOAD_MB", "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        log.warning("RAG_MAX_UPLOAD_MB=%r is not a positive number of MB; using %s", raw, default)
        return default
    return value


_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str) -> str:
    """The name an upload is saved under: its basename, in ``[A-Za-z0-9._ -]``, no leading dot.

    >>> safe_filename("../../etc/passwd.txt")
    'passwd.txt'
    >>> safe_filename("Zürich <notes>.md")
    'Zurich _notes_.md'
    """
    base = re.split(r"[\\/]", str(name))[-1]  # either separator: a browser may send a Windows path
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""

    def ascii_only(text: str) -> str:
        return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")

    stem = re.sub(r"\s+", " ", _UNSAFE_CHARACTERS.sub("_", ascii_only(stem)))
    stem = stem.strip(" .")[:120].strip(" .")  # no hidden files, no "..", no trailing dots
    if not re.search(r"[A-Za-z0-9]", stem):
        stem = "document"
    suffix = re.sub(r"[^A-Za-z0-9]", "", ascii_only(suffix))[:16]
    return f"{stem}.{suffix}" if suffix else stem


def mistake(message: str, title: str = "Can't do that") -> gr.Error:
    """A ``gr.Error`` for a user's mistake: shown in the app, no traceback in the server log."""
    return gr.Error(message, title=title, print_exception=False)


def _user_error(error: Exception) -> gr.Error:
    """A library error as a message for the person at the screen (escaped: toasts render HTML)."""
    if isinstance(error, gr.Error):  # a ValueError too, and already worded for the user
        return error
    message = str(error)
    for name, label in (("date_from=", "From date "), ("date_to=", "To date ")):
        message = message.replace(name, label)
    message = message[:1].upper() + message[1:]
    return mistake(html.escape(message, quote=False), "Can't do that")


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
        raise _user_error(error) from None


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


# -- rendering (escape first, then add markup) ------------------------------------


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` HTML-escaped, with the ``(start, end)`` spans wrapped in ``<mark>``."""
    parts, position = [], 0
    for start, end in sorted(spans):
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        parts += [html.escape(text[position:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def _quote_spans(result: Answer, hit: Hit) -> list[tuple[int, int]]:
    """Where the answer's quotes lie inside ``hit.text``."""
    spans = []
    for citation in result.citations:
        if citation.hit.chunk_id != hit.chunk_id:
            continue
        start, end = citation.start - hit.start, citation.end - hit.start
        if hit.text[start:end] != citation.quote:  # offsets are exact today; don't trust them blindly
            start = hit.text.find(citation.quote)
            end = start + len(citation.quote)
        if start >= 0:
            spans.append((start, end))
    return spans


def _meta(hit: Hit, label: str) -> str:
    items = [label, f'<span class="rag-date">{html.escape(hit.date) if hit.date else "undated"}</span>']
    items.append(f'<span class="rag-source">{html.escape(hit.source)}</span>')
    if hit.page:
        items.append(f'<span class="rag-page">page {hit.page}</span>')
    items.append(f'<span class="rag-score">score {hit.score:.3f}</span>')
    return f'<div class="rag-meta">{"".join(items)}</div>'


def _card(hit: Hit, label: str, spans: list[tuple[int, int]], marker: int | None = None) -> str:
    data = f' data-marker="{marker}"' if marker is not None else ""
    return (
        f'<article class="rag-card"{data}>{_meta(hit, label)}'
        f'<p class="rag-passage">{highlight(hit.text, spans)}</p></article>'
    )


def _answer_text(result: Answer) -> str:
    """The answer's text, escaped, with each quote in ``<q>`` and each [n] marker styled."""
    text, parts, position = result.text, [], 0
    for citation in result.citations:
        marker = f" [{citation.marker}]"
        at = text.find(citation.quote + marker, position)
        if at < 0:  # the text is not the quotes we know: show it as it is
            return html.escape(text)
        parts.append(html.escape(text[position:at]))
        parts.append(
            f'<q>{html.escape(citation.quote)}</q>&nbsp;<span class="rag-marker">[{citation.marker}]</span>'
        )
        position = at + len(citation.quote) + len(marker)
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def render_answer(result: Answer) -> str:
    """The answer and one card per citation, the quoted sentence highlighted in its passage."""
    if result.found:
        cards = "".join(
            _card(c.hit, f'<span class="rag-marker">[{c.marker}]</span>', _quote_spans(result, c.hit), c.marker)
            for c in result.citations
        )
        return (
            f'<section class="rag-answer" aria-live="polite">'
            f'<p class="rag-answer-text">{_answer_text(result)}</p></section>'
            f'<h3 class="rag-h">Sources</h3><div class="rag-cards">{cards}</div>'
        )
    if not result.hits:
        note = "No passage matches these filters; widen the date range or clear it."
        return (
            f'<section class="rag-answer rag-not-found" aria-live="polite"><p class="rag-answer-text">'
            f"{html.escape(result.text)}</p><p class=\"rag-note\">{note}</p></section>"
        )
    closest = result.hits[:CLOSEST_WHEN_NOT_FOUND]
    cards = "".join(_card(hit, f'<span class="rag-rank">#{hit.rank}</span>', []) for hit in closest)
    return (
        f'<section class="rag-answer rag-not-found" aria-live="polite"><p class="rag-answer-text">'
        f'{html.escape(result.text)}</p><p class="rag-note">None of the passages found says it; '
        f"the closest are below. Try other words, or another date range.</p></section>"
        f'<h3 class="rag-h">Closest passages</h3><div class="rag-cards">{cards}</div>'
    )


def render_passages(result: Answer) -> str:
    """Every passage the answer was drawn from, best first, quoted sentences highlighted."""
    if not result.hits:
        return '<p class="rag-empty">No passages.</p>'
    cards = "".join(
        _card(hit, f'<span class="rag-rank">#{hit.rank}</span>', _quote_spans(result, hit)) for hit in result.hits
    )
    return f'<div class="rag-cards">{cards}</div>'


def index_facts(index=None) -> str:
    """Documents, passages, model and last update of the index, as HTML."""
    try:
        info = open_index(index).info()
    except RagError as error:
        return (
            f'<p class="rag-empty">{html.escape(str(error))}</p>'
            '<p class="rag-empty">Add documents below to start an index here.</p>'
        )
    updated = info.updated.replace("T", " ").replace("+00:00", " UTC") if info.updated else "never"
    rows = [
        ("Documents", f"{info.documents:,}"),
        ("Passages", f"{info.chunks:,}"),
        ("Model", info.model),
        ("Updated", updated),
    ]
    cells = "".join(f"<dt>{name}</dt><dd>{html.escape(value)}</dd>" for name, value in rows)
    return f'<dl class="rag-facts">{cells}</dl>'


def info_json(index=None) -> dict:
    """IndexInfo as a dict, with ``path`` renamed ``index``: gradio_client downloads any dict holding a "path"."""
    try:
        facts = dataclasses.asdict(open_index(index).info())
    except RagError as error:
        raise _user_error(error) from None
    return {"index": facts.pop("path"), **facts}


def search_json(query: str, k: int = DEFAULT_K, date_from: str = "", date_to: str = "", *, index=None) -> list[dict]:
    if not (query or "").strip():
        raise mistake("Type a query first, for example “harbour reopened”.", "No query")
    try:
        hits = search(query, _k(k), index=index, date_from=_date(date_from), date_to=_date(date_to))
    except (ValueError, RagError) as error:
        raise _user_error(error) from None
    return [_hit_json(hit) for hit in hits]


# -- adding documents ------------------------------------------------------------------

_upload_locks: dict[Path, threading.Lock] = {}
_upload_locks_guard = threading.Lock()


def _upload_lock(folder: Path) -> threading.Lock:
    with _upload_locks_guard:
        return _upload_locks.setdefault(folder.resolve(), threading.Lock())


def uploads_folder(index=None, uploads=None) -> Path:
    """Where uploads are kept: ``uploads``, else ``<index folder>/uploads``."""
    if uploads is not None:
        return Path(uploads)
    return Path(index if index is not None else default_index_path()) / "uploads"


def _indexed_elsewhere(names: Iterable[str], folder: Path, index) -> list[str]:
    """Names that the index already holds from another folder (an upload would replace them)."""
    try:
        store = open_index(index)  # the default index is built here if it is missing
    except RagError:
        return []  # no index yet: nothing to clash with
    documents = store.documents()
    folder = folder.resolve()
    return [name for name in names if name in documents and documents[name].resolve() != folder]


def _upload_path(file) -> Path:
    """The temporary path of one upload: gradio passes a str; tests may pass a Path."""
    if isinstance(file, (str, os.PathLike)):
        return Path(file)
    for attribute in ("path", "name"):  # gradio FileData / tempfile wrappers
        value = getattr(file, attribute, None)
        if isinstance(value, str):
            return Path(value)
    raise mistake("An upload arrived without a file; try again.", "Upload failed")


def _validate_uploads(files, max_upload_mb: float) -> dict[str, Path]:
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    paths = [_upload_path(f) for f in (files or [])]
    if not paths:
        raise mistake("Choose one or more .txt, .md or .pdf files to add first.", "No files")
    planned: dict[str, Path] = {}
    for path in paths:
        name = safe_filename(path.name)
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            kind = f"{suffix} files" if suffix else "Files without an extension"
            raise mistake(
                f"{html.escape(name)}: {kind} can't be indexed. Upload .txt, .md or .pdf files; "
                "nothing was added.",
                "Unsupported file type",
            )
        try:
            size = path.stat().st_size
        except OSError:
            raise mistake(f"{html.escape(name)}: the upload can't be read; try again.", "Upload failed") from None
        if size > max_upload_mb * 1_000_000:
            raise mistake(
                f"{html.escape(name)} is {size / 1_000_000:.1f} MB, over the {max_upload_mb:g} MB limit; "
                "nothing was added. Split it, or raise RAG_MAX_UPLOAD_MB.",
                "File too large",
            )
        if name in planned:
            raise mistake(f"Two files would both be saved as {html.escape(name)}; rename one.", "Same name twice")
        planned[name] = path
    return planned


def add_documents(
    files,
    *,
    index=None,
    uploads=None,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    progress: Callable[[float, str], None] | None = None,
) -> SyncReport:
    """Save uploaded files into the uploads folder and sync that folder into the index.

    Every file is checked (type, size, name) before anything is written. A file the
    library cannot read is skipped and taken back out of the folder (an older upload
    of the same name is put back), so the folder and the index keep agreeing.
    """
    planned = _validate_uploads(files, max_upload_mb)
    folder = uploads_folder(index, uploads)
    index_path = Path(index) if index is not None else default_index_path()
    with _upload_lock(folder):
        clashes = _indexed_elsewhere(planned, folder, index)
        if clashes:
            raise mistake(
                f"{html.escape(', '.join(clashes))}: a document of this name is already indexed from "
                "another folder; rename the file and upload it again.",
                "Name already taken",
            )
        folder.mkdir(parents=True, exist_ok=True)
        # Hidden (leading dot), so the library never indexes what is parked here.
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        backups: dict[str, Path | None] = {}  # name -> the older upload it replaces, if any

        def put_back(name: str) -> None:
            backup, target = backups[name], folder / name
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)

        try:
            try:
                for name, source in planned.items():
                    target = folder / name
                    if target.resolve().parent != folder.resolve():  # belt and braces after safe_filename
                        raise mistake(f"{html.escape(name)}: not a usable file name.", "Bad file name")
                    backups[name] = None
                    if target.exists():
                        backups[name] = staging / name
                        os.replace(target, staging / name)
                    shutil.copyfile(source, staging / f"{name}.new")
                    os.replace(staging / f"{name}.new", target)
                report = sync([folder], index_path, progress=progress)
            except BaseException:
                for name in backups:
                    put_back(name)
                raise
            for name in report.skipped:  # unreadable: the index kept what it had, so must the folder
                if name in backups:
                    put_back(name)
        except (ValueError, OSError, RagError) as error:
            raise _user_error(error) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report


def render_report(report: SyncReport, uploaded: Iterable[str] = ()) -> str:
    """What an upload did, as HTML: files added, updated, unchanged, skipped; passages; warnings.

    ``uploaded`` names the files of this upload, so that files uploaded earlier and
    still unchanged are not listed again.
    """

    def names(items: Iterable[str]) -> str:
        return ", ".join(html.escape(item) for item in items)

    def files(count: int) -> str:
        return f"{count} file{'s' * (count != 1)}"

    uploaded = set(uploaded)
    unchanged = [name for name in report.unchanged if name in uploaded]
    lines = []
    if report.added:
        lines.append(f"Added {files(len(report.added))}: {names(report.added)}.")
    if report.updated:
        lines.append(f"Updated {files(len(report.updated))}: {names(report.updated)}.")
    if unchanged:
        lines.append(f"Already indexed, unchanged: {names(unchanged)}.")
    if report.removed:
        lines.append(f"Removed {files(len(report.removed))} no longer in the uploads folder: {names(report.removed)}.")
    if report.skipped:
        lines.append(
            f'<span class="rag-warn">Skipped {files(len(report.skipped))}, not indexed: {names(report.skipped)}.</span>'
        )
    if report.added or report.updated:
        lines.append(
            f"{report.chunks_added} passage{'s' * (report.chunks_added != 1)} indexed "
            f"({report.chunks_embedded} newly embedded); searchable now."
        )
    elif not (lines or report.skipped):
        lines.append("Nothing new: these files are already indexed.")
    body = "".join(f"<p>{line}</p>" for line in lines)
    if report.warnings:
        body += "<ul>" + "".join(f'<li class="rag-warn">{html.escape(w)}</li>' for w in report.warnings) + "</ul>"
    return f'<div class="rag-report">{body}</div>'


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
        uploaded = [safe_filename(_upload_path(file).name) for file in files]
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
                answer_html = gr.HTML(
                    '<p class="rag-empty">Ask a question to get an answer quoted from your documents.</p>',
                    css_template=CARD_CSS,
                    js_on_load=None,
                    elem_id="rag-answer",
                    elem_classes=["rag-flush"],
                )
                with gr.Accordion("All retrieved passages", open=False, elem_id="rag-passages-box") as passages_box:
                    passages_html = gr.HTML(
                        '<p class="rag-empty">Nothing retrieved yet.</p>',
                        css_template=CARD_CSS,
                        js_on_load=None,
                        elem_id="rag-passages",
                        elem_classes=["rag-flush"],
                    )
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
                    report_html = gr.HTML(
                        "", css_template=CARD_CSS, js_on_load=None, elem_id="rag-report", elem_classes=["rag-flush"]
                    )
                with gr.Accordion("Index", open=True, elem_id="rag-index"):
                    facts_html = gr.HTML(
                        '<p class="rag-empty">Loading…</p>',
                        css_template=CARD_CSS,
                        js_on_load=None,
                        elem_id="rag-facts",
                        elem_classes=["rag-flush"],
                    )

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
