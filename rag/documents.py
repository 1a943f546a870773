"""Load documents from disk: plain text, Markdown, and PDF (one Document per page)."""

from __future__ import annotations

import codecs
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rag.config import Limits
from rag.errors import DocumentError
from rag.types import Document

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".pdf"}


@dataclass(frozen=True)
class Notice:
    """A warning about one file, with its kind in the plural ("pages with no extractable text").

    The kind lets a report show a few warnings of one kind and count the rest.
    """

    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SourceFile:
    """A file to index and the name it is known by (relative to its corpus root)."""

    path: Path
    root: Path
    source: str


def find_files(paths: list[str | Path]) -> tuple[list[SourceFile], list[Path], dict[str, Notice]]:
    """Expand files and directories (recursively) into supported source files.

    Returns the files, the directories scanned (files deleted from them leave the
    index), and the files skipped (unsupported, or a name already taken by a file of
    another folder), each with a warning. A missing path raises DocumentError.
    """
    files: dict[str, SourceFile] = {}
    scanned_dirs: list[Path] = []
    skipped: dict[str, Notice] = {}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise DocumentError(f"{given}: no such file or directory; check the path and try again")
        path = path.resolve()
        if path.is_dir():
            scanned_dirs.append(path)
            candidates = [(path.joinpath(*parts), parts) for parts in sorted(_walk(path))]
            root = path
        else:
            candidates, root = [(path, (path.name,))], path.parent
        for file, parts in candidates:
            if any(part.startswith(".") for part in parts):
                continue  # hidden files and folders (.git, .DS_Store) are never documents
            source = "/".join(parts)
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped[source] = Notice(
                    "files of an unsupported type",
                    f"{source}: skipped, unsupported file type {file.suffix or '(none)'!r}; "
                    f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}",
                )
                continue
            if source in files and files[source].path != file:
                skipped[source] = Notice(
                    "files whose name is taken",
                    f"{file}: skipped, its name {source!r} is taken by {files[source].path}; "
                    "rename one, or index their common parent folder",
                )
                continue
            files[source] = SourceFile(file, root, source)
    return list(files.values()), scanned_dirs, skipped


def _walk(folder: Path, parts: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The files under ``folder`` (as ``Path.rglob`` finds them: links to files included,
    linked folders not entered), each as its path's parts below ``folder``. Hidden folders
    are not entered. One ``scandir`` per folder and no ``stat`` per file: at 10,000 files,
    0.1 s where ``rglob`` with ``is_file`` and ``relative_to`` took 0.5 s."""
    try:
        entries = list(os.scandir(folder))
    except PermissionError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith("."):
                yield from _walk(Path(entry.path), parts + (entry.name,))
        elif entry.is_file():
            yield parts + (entry.name,)


# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an invalid byte, as errors="surrogateescape" keeps it
_VALID_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _looks_binary(text: str | bytes) -> bool:
    head = text[:8192]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    control = sum(b < 32 and b not in b"\t\n\r\f" for b in head)
    return b"\x00" in head or control > len(head) * 0.1


def _decode_utf8(data: bytes) -> tuple[str, int] | None:
    """UTF-8 with each invalid byte replaced by U+FFFD, and how many; None if it is not UTF-8.

    A file is taken for UTF-8 when its valid non-ASCII characters are at least as many
    as its invalid bytes: one stray byte must not turn "Müller" into "MÃ¼ller", while a
    Windows-1252 file (every accent an invalid byte) goes to the detector.
    """
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    invalid = len(_ESCAPED_BYTE.findall(text))
    if len(_VALID_NON_ASCII.findall(text)) < invalid:
        return None
    return _ESCAPED_BYTE.sub("\ufffd", text), invalid


def _guess_encoding(data: bytes) -> str:
    """The encoding charset-normalizer finds, but Windows-1252 whenever it stays a candidate.

    On Western text the detector often prefers a code page that turns è into č
    (Windows-1250, -1257) while still listing 1252, just as coherent; 1252 is by far
    the most common of them. Text that 1252 would garble (Cyrillic, Czech, Greek …)
    is not listed under 1252 at all. ``scripts/hostile_inputs.py decoding`` counts
    the cases each rule gets right.
    """
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return "cp1252"
    for match in matches:
        if "cp1252" in match.could_be_from_charset and match.percent_coherence >= best.percent_coherence:
            return "cp1252"
    ascii_text = bytes(range(32, 127))
    try:  # never a guess that would change plain ASCII (EBCDIC, UTF-16 …)
        if ascii_text.decode(best.encoding) != ascii_text.decode("ascii"):
            return "cp1252"
    except (LookupError, UnicodeDecodeError):
        return "cp1252"
    return best.encoding


def decode_text(data: bytes, name: str) -> tuple[str, list[Notice]]:
    """Decode a text file's bytes, and say what was guessed or replaced.

    A byte-order mark decides (UTF-8, UTF-16, UTF-32); otherwise UTF-8, with each
    invalid byte replaced by U+FFFD when the rest is UTF-8; otherwise the encoding
    charset-normalizer finds. Line ends become ``\n``; the BOM is dropped. Raises
    DocumentError for an empty or binary file.
    """
    notices: list[Notice] = []
    bom = next((bom for bom, _ in _BOMS if data.startswith(bom)), None)
    if bom is not None:
        encoding, body = dict(_BOMS)[bom], data[len(bom):]
        text = body.decode(encoding, "replace")
        replaced = text.count("\ufffd") - body.decode(encoding, "ignore").count("\ufffd")
        if _looks_binary(text):
            raise _binary(name)
    elif _looks_binary(data):
        raise _binary(name)
    else:
        encoding = None
        decoded = _decode_utf8(data)
        if decoded is None:
            encoding = _guess_encoding(data)
            text = data.decode(encoding, "replace")
            replaced = text.count("\ufffd")  # bytes the code page leaves undefined
            notices.append(Notice(
                "files not in UTF-8",
                f"{name}: not UTF-8; read as {encoding} (a guess); if some letters look wrong, "
                "save the file as UTF-8 and index it again",
            ))
        else:
            text, replaced = decoded
    if not text.strip():
        raise DocumentError(f"{name}: the file is empty; add some text or remove it", kind="empty files")
    if replaced:
        notices.append(Notice(
            "files with invalid bytes",
            f"{name}: {replaced:,} invalid byte{'s' if replaced > 1 else ''} replaced with \ufffd "
            f"(the rest is {encoding or 'UTF-8'}); save the file as UTF-8 to keep those characters",
        ))
    return text.replace("\r\n", "\n").replace("\r", "\n"), notices


def _binary(name: str) -> DocumentError:
    return DocumentError(
        f"{name}: looks like a binary file, not text; convert it to .txt, .md or .pdf before indexing",
        kind="binary files",
    )


def _too_long(source: str, what: str, limits: Limits) -> DocumentError:
    return DocumentError(
        f"{source}: {what}, over the limit of {limits.max_chars:,} characters per file; "
        "split the file, or raise the limit (RAG_MAX_CHARS)",
        kind="files over a size limit",
    )


class _TextBudgetExceeded(BaseException):
    """Stops pypdf's extraction from inside its text callback.

    A BaseException, because pypdf catches Exception around form XObjects and would
    carry on extracting.
    """


def _needs_password(source: str) -> DocumentError:
    return DocumentError(
        f"{source}: the PDF needs a password to open; remove it and index the copy, e.g. "
        f"qpdf --password=PASSWORD --decrypt {Path(source).name} unlocked.pdf "
        "(or open it in a PDF viewer and print it to a new PDF)",
        kind="password-protected PDFs",
    )


# A page's drawing instructions may run to many times its text (figures, kerning), but
# one that expands to ten times all the text the file may hold is a bomb: pypdf would
# parse all of it before yielding any text (20 s for a page of 39 MB, measured by
# scripts/hostile_inputs.py), where decompressing it to measure takes 0.2 s.
_CONTENT_PER_TEXT = 10


def _open_pdf(path: Path, source: str, limits: Limits):
    from pypdf import PdfReader

    reader = PdfReader(path)  # tries the empty password: owner-password-only PDFs open
    if reader.is_encrypted and not reader.decrypt(""):
        raise _needs_password(source)
    # The declared count first: pypdf takes 16 s to list 30,000 pages, 0.4 s to read the count.
    count = _declared_pages(reader)
    if count <= limits.max_pages:
        count = len(reader.pages)  # the real count, should the declared one lie
    if count > limits.max_pages:
        raise DocumentError(
            f"{source}: {count:,} pages, over the limit of {limits.max_pages:,} pages per PDF; "
            "split the PDF, or raise the limit (RAG_MAX_PAGES)",
            kind="files over a size limit",
        )
    return reader


def _declared_pages(reader) -> int:
    try:
        return int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # a damaged page tree: the pages are counted one by one instead
        return 0


def _content_size(page) -> int:
    try:
        content = page.get_contents()
        return len(content.get_data()) if content is not None else 0
    except Exception:  # left to extract_text, which is more lenient with broken content
        return 0


def _extract_pages(reader, source: str, size: int, limits: Limits) -> list[str]:
    """Each page's text; DocumentError as soon as the text passes the file's budget."""
    budget = int(min(limits.max_chars, limits.max_ratio * size))
    setting = "RAG_MAX_CHARS" if budget == limits.max_chars else "RAG_MAX_TEXT_RATIO"
    pages: list[str] = []
    done = counted = 0

    def count_text(text: str, *_) -> None:
        nonlocal counted
        counted += len(text)
        if counted > budget:
            raise _TextBudgetExceeded

    try:
        for number, page in enumerate(reader.pages, start=1):
            content = _content_size(page)
            if content > _CONTENT_PER_TEXT * budget:
                raise DocumentError(
                    f"{source}: page {number} expands to {content:,} bytes of page content, far more than the "
                    f"{budget:,} characters of text this file may hold: a compression bomb? If you trust it, "
                    f"raise the limit ({setting})",
                    kind="files over a size limit",
                )
            text = page.extract_text(visitor_text=count_text) or ""
            pages.append(text)
            done += len(text)
            counted = done  # the callback sees most of the text, not the spacing pypdf adds
            if done > budget:
                raise _TextBudgetExceeded
    except _TextBudgetExceeded:
        if setting == "RAG_MAX_CHARS":
            raise _too_long(source, f"more than {budget:,} characters of text", limits) from None
        raise DocumentError(
            f"{source}: this PDF of {size:,} bytes holds more than {budget:,} characters of text, "
            f"over {limits.max_ratio:g} characters per byte of file: a compression bomb, or a very "
            "repetitive file; if you trust it, raise the limit (RAG_MAX_TEXT_RATIO)",
            kind="files over a size limit",
        ) from None
    return pages


def _load_pdf(path: Path, source: str, limits: Limits) -> tuple[list[Document], list[Notice]]:
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    try:
        pages = _extract_pages(_open_pdf(path, source, limits), source, path.stat().st_size, limits)
    except DocumentError:
        raise
    except FileNotDecryptedError as error:
        raise _needs_password(source) from error
    except DependencyError as error:  # AES without the cryptography package
        raise DocumentError(
            f"{source}: the PDF is encrypted and reading it needs the cryptography package ({error}); "
            "install it: pip install 'pypdf[crypto]'",
            kind="encrypted PDFs",
        ) from error
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise DocumentError(
            f"{source}: cannot read this PDF ({type(error).__name__}: {error}); "
            "it may be damaged: re-export it, or convert it to text",
            kind="unreadable PDFs",
        ) from error
    except Exception as error:  # pypdf raises many kinds on broken files
        raise DocumentError(
            f"{source}: cannot read this PDF ({type(error).__name__}: {error}); re-export it",
            kind="unreadable PDFs",
        ) from error
    documents = [
        Document(source=source, text=text.replace("\r\n", "\n"), page=number)
        for number, text in enumerate(pages, start=1)
        if text.strip()
    ]
    if not documents:
        raise DocumentError(
            f"{source}: no extractable text — scanned? Run OCR on it (e.g. ocrmypdf) and index the result",
            kind="PDFs with no extractable text",
        )
    notices = [
        Notice("pages with no extractable text", f"{source}: page {number} has no extractable text — scanned?")
        for number, text in enumerate(pages, start=1)
        if not text.strip()
    ]
    return documents, notices


def load_documents(
    path: Path, source: str, limits: Limits | None = None
) -> tuple[list[Document], list[Notice]]:
    """Read one file into Documents (one per PDF page) and any warnings about it.

    Raises DocumentError, naming the file and what to do, when nothing can be read or
    the file is over one of the ``limits`` (default: ``Limits.from_env()``).
    """
    limits = limits or Limits.from_env()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _load_pdf(path, source, limits)
    if suffix not in TEXT_SUFFIXES:
        raise DocumentError(
            f"{source}: unsupported file type {suffix!r}; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}",
            kind="files of an unsupported type",
        )
    try:
        size = path.stat().st_size
        if size > 4 * limits.max_chars:  # no encoding takes more than 4 bytes a character
            raise _too_long(source, f"{size:,} bytes of text (at least {size // 4:,} characters)", limits)
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{source}: cannot read the file ({error.strerror})") from error
    text, notices = decode_text(data, source)
    if len(text) > limits.max_chars:
        raise _too_long(source, f"{len(text):,} characters of text", limits)
    return [Document(source=source, text=text)], notices
