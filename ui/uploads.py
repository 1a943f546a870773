"""Adding uploaded files to the index, and removing documents: the uploads folder and the index agree.

Each uploaded file is checked (type, size, name) on its own: one bad file is reported
and the others are added. Uploads and removals of the same file name take turns; others
run side by side. A failed or unreadable upload leaves the folder as it was.
"""

import contextlib
import html
import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import gradio as gr

from rag import RagError, SyncReport, delete, open_index, sync
from rag.config import default_index_path
from ui.errors import mistake, user_error

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".txt", ".md", ".pdf")
# Where an upload or a removal parks files while it works, inside the uploads folder; hidden
# (leading dot), so the library never indexes it. One is left behind only by a killed server.
STAGING_PREFIX = ".staging-"
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



class _Claims:
    """The file names of one uploads folder that an upload or a removal is working on."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.names: set[str] = set()
        self.whole = False  # the start-up recovery, which works on every file


_claims: dict[Path, _Claims] = {}
_claims_guard = threading.Lock()


@contextlib.contextmanager
def _claim(folder: Path, names: "Iterable[str] | None"):
    """Work on ``names`` of ``folder`` (``None``: the whole folder) while no one else does.

    Per name, not per folder: an upload waits only for uploads and removals of the same
    names, so one big file does not hold up everybody else's (the index takes writes one at
    a time, but only for the moment each is written; the embedding runs side by side).
    """
    with _claims_guard:
        claims = _claims.setdefault(folder.resolve(), _Claims())
    wanted = None if names is None else set(names)

    def free() -> bool:
        if claims.whole:
            return False
        return not claims.names if wanted is None else not (claims.names & wanted)

    with claims.changed:
        claims.changed.wait_for(free)
        if wanted is None:
            claims.whole = True
        else:
            claims.names |= wanted
    try:
        yield
    finally:
        with claims.changed:
            if wanted is None:
                claims.whole = False
            else:
                claims.names -= wanted
            claims.changed.notify_all()


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


@dataclass(frozen=True)
class FileOutcome:
    """What became of one uploaded file."""

    name: str  # the name it is saved under (see safe_filename)
    status: Literal["added", "updated", "unchanged", "failed"]
    reason: str = ""  # why it failed, worded for the reader (plain text)


@dataclass(frozen=True)
class UploadReport:
    """Every file of one upload with its outcome, and the sync that indexed the good ones."""

    files: tuple[FileOutcome, ...]
    sync: SyncReport | None = None  # None when no file got as far as the index

    @property
    def changed(self) -> bool:
        return self.sync is not None and self.sync.changed


@dataclass(frozen=True)
class Removal:
    """What removing one document did."""

    source: str
    passages: int  # passages it took out of the index
    upload_deleted: bool  # its file was an upload and was deleted from the uploads folder



def upload_path(file) -> Path:
    """The temporary path of one upload: gradio passes a str; tests may pass a Path."""
    if isinstance(file, (str, os.PathLike)):
        return Path(file)
    for attribute in ("path", "name"):  # gradio FileData / tempfile wrappers
        value = getattr(file, attribute, None)
        if isinstance(value, str):
            return Path(value)
    raise mistake("An upload arrived without a file; try again.", "Upload failed")


def discard_uploads(files, cache: "str | Path") -> None:
    """Delete gradio's temporary copies of ``files`` once they are saved in the uploads folder, or refused.

    Only files inside ``cache`` (gradio's upload folder) are deleted, with the folder gradio
    made for each when it is left empty: a path a script passed from elsewhere stays.
    """
    cache = Path(cache).resolve()
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    for file in files or []:
        try:
            path = upload_path(file).resolve()
        except gr.Error:
            continue
        if cache not in path.parents:
            continue
        path.unlink(missing_ok=True)
        if path.parent != cache:
            with contextlib.suppress(OSError):  # not empty: another upload of the same content
                path.parent.rmdir()


def _check(path: Path, name: str, max_upload_mb: float) -> str:
    """Why ``path`` can't be added under ``name`` (plain text), or "" when it can."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        kind = f"{suffix} files" if suffix else "files without an extension"
        return f"{kind} can't be indexed; upload .txt, .md or .pdf files."
    try:
        size = path.stat().st_size
    except OSError:
        return "the upload can't be read; try again."
    if size > max_upload_mb * 1_000_000:
        shown = f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"
        return f"{shown} is over the {max_upload_mb:g} MB limit; split it, or raise RAG_MAX_UPLOAD_MB."
    return ""


def _reason(name: str, warnings: Iterable[str]) -> str:
    """The sync's warning about ``name``, without the file name it starts with."""
    for warning in warnings:
        if name in warning:
            return re.sub(rf"^.*?{re.escape(name)}:\s*", "", warning, count=1)
    return "it could not be read."


def add_documents(
    files,
    *,
    index=None,
    uploads=None,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    progress: Callable[[float, str], None] | None = None,
) -> UploadReport:
    """Save uploaded files into the uploads folder and sync that folder into the index.

    Each file is checked on its own (type, size, a name no other folder's document
    has); the ones that pass are saved and synced, the others are reported with the
    reason. A file the library cannot read is taken back out of the folder (an older
    upload of the same name is put back), so the folder and the index keep agreeing.
    Raises ``gr.Error`` only when there is no file at all, or the index itself can't
    be written.
    """
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    paths = [upload_path(f) for f in (files or [])]
    if not paths:
        raise mistake("Choose one or more .txt, .md or .pdf files to add first.", "No files")
    results: list[tuple[str, FileOutcome | None]] = []  # in upload order; None: decided by the sync
    planned: dict[str, Path] = {}
    for path in paths:
        name = safe_filename(path.name)
        if name in planned:
            reason = f"another file of this upload is also saved as {name}; rename one."
        else:
            reason = _check(path, name, max_upload_mb)
        if reason:
            results.append((name, FileOutcome(name, "failed", reason)))
        else:
            planned[name] = path
            results.append((name, None))
    folder = uploads_folder(index, uploads)
    index_path = Path(index) if index is not None else default_index_path()
    report = None
    with _claim(folder, planned):
        clashes = set(_indexed_elsewhere(planned, folder, index))
        for name in clashes:
            del planned[name]
        if planned:
            report = _save_and_sync(planned, folder, index_path, progress)

    def outcome(name: str) -> FileOutcome:
        if name in clashes:
            reason = "a document of this name is already indexed from another folder; rename the file."
            return FileOutcome(name, "failed", reason)
        if name in report.skipped:
            return FileOutcome(name, "failed", _reason(name, report.warnings))
        if name in report.added:
            return FileOutcome(name, "added")
        return FileOutcome(name, "updated" if name in report.updated else "unchanged")

    return UploadReport(tuple(known or outcome(name) for name, known in results), report)


def _save_and_sync(planned: dict[str, Path], folder: Path, index_path: Path, progress) -> SyncReport:
    """Copy ``planned`` files into ``folder`` and sync it; unreadable ones are put back out."""
    folder.mkdir(parents=True, exist_ok=True)
    # Hidden (leading dot), so the library never indexes what is parked here.
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
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
            # These files only, not the folder: other uploads may be saving theirs meanwhile.
            report = sync([folder / name for name in planned], index_path, progress=progress)
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


def remove_document(source: str, *, index=None, uploads=None) -> Removal:
    """Take ``source`` out of the index; when it is an upload, delete its file from the uploads folder too.

    A corpus document's file is left where it is (indexing its folder again adds it back).
    """
    folder = uploads_folder(index, uploads)
    index_path = Path(index) if index is not None else default_index_path()
    with _claim(folder, [source]):
        try:
            root = open_index(index).documents().get(source)
        except RagError as error:
            raise user_error(error) from None
        if root is None:
            raise mistake(f"{html.escape(source)} is not in the index (any more); the list is up to date now.",
                          "Not indexed")
        upload = root.resolve() == folder.resolve() and (folder / source).is_file()
        parked = None
        if upload:  # parked first, so a failed delete can put it back
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
            # Under its own name: a server killed before the delete is written puts it back at start.
            parked = staging / Path(source).name
            os.replace(folder / source, parked)
        try:
            report = delete([source], index_path)
        except BaseException as error:
            if parked is not None:
                os.replace(parked, folder / source)
            if isinstance(error, (ValueError, OSError, RagError)):
                raise user_error(error) from None
            raise
        finally:
            if parked is not None:
                shutil.rmtree(parked.parent, ignore_errors=True)
    return Removal(source, report.chunks_removed, upload)


@dataclass(frozen=True)
class Recovery:
    """What ``recover_uploads`` found at start and did about it."""

    cleared: tuple[str, ...] = ()  # staging folders left by a killed server, removed
    restored: tuple[str, ...] = ()  # uploads put back from them (the index still held them)
    sync: SyncReport | None = None  # the uploads folder brought in line with the index, if anything differed

    def messages(self) -> list[str]:
        """One line per thing done, for the server log; [] when there was nothing to recover."""
        lines = []
        if self.cleared:
            lines.append(f"removed {len(self.cleared)} staging folder(s) left by an interrupted upload or removal")
        if self.restored:
            lines.append(f"put back {', '.join(self.restored)} (a removal was interrupted before the index changed)")
        report = self.sync
        if report is not None:
            for verb, names in (("indexed", report.added), ("re-indexed", report.updated),
                                ("removed from the index (their files are gone)", report.removed)):
                if names:
                    lines.append(f"{verb} {len(names)} upload(s) the index did not hold as they are: {', '.join(names)}")
            if report.skipped:
                lines.append(
                    f"could not index {len(report.skipped)} file(s) in the uploads folder: {', '.join(report.skipped)}; "
                    "fix or delete them (they are reported at every start)"
                )
                lines.extend(f"  {warning}" for warning in report.warnings)
        return lines


def recover_uploads(*, index=None, uploads=None, progress: Callable[[float, str], None] | None = None) -> Recovery:
    """Undo what a server killed mid-upload or mid-removal left behind; run at start.

    Staging folders are removed; an upload parked by a removal that never reached the index
    is put back first, and so is an older upload parked by an upload killed before its
    replacement was in place. Then the uploads folder is synced, so a file saved but never
    indexed is indexed now (the returned report says which). Nothing happens, and the
    model is not loaded, when the folder and the index already agree.
    """
    folder = uploads_folder(index, uploads)
    if not folder.is_dir():
        return Recovery()
    index_path = Path(index) if index is not None else default_index_path()
    cleared, restored = [], []
    with _claim(folder, None):
        try:
            held = {name for name, root in open_index(index).documents().items() if root.resolve() == folder.resolve()}
        except RagError:
            held = set()  # no index: nothing to put back for it
        for staging in sorted(folder.glob(f"{STAGING_PREFIX}*")):
            if not staging.is_dir():
                continue
            for parked in staging.iterdir():
                target = folder / parked.name
                # A parked upload whose place is empty: the index still holds it (an interrupted
                # removal), or an upload was killed between moving it aside and saving the new one.
                if parked.is_file() and parked.name in held and not target.exists():
                    os.replace(parked, target)
                    restored.append(parked.name)
            shutil.rmtree(staging, ignore_errors=True)
            cleared.append(staging.name)
        try:
            report = sync([folder], index_path, progress=progress)
        except (ValueError, OSError, RagError) as error:
            log.warning("the uploads folder %s could not be synced at start: %s", folder, error)
            report = None
    return Recovery(tuple(cleared), tuple(restored), report if report is not None and (
        report.changed or report.skipped) else None)
