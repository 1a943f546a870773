"""Adding uploaded files to the index: checked, saved into the uploads folder, then synced.

Every file is checked (type, size, name) before anything is written; uploads into one
folder are serialised, and a failed or unreadable upload leaves the folder as it was.
"""

import html
import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from rag import RagError, SyncReport, open_index, sync
from rag.config import default_index_path
from ui.errors import mistake, user_error

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".txt", ".md", ".pdf")
DEFAULT_MAX_UPLOAD_MB = 50.0


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


def upload_path(file) -> Path:
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
    paths = [upload_path(f) for f in (files or [])]
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
            raise user_error(error) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report
