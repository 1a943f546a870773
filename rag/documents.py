"""Load documents from disk: plain text, Markdown, and PDF (one Document per page)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.types import Document

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".pdf"}


@dataclass(frozen=True)
class SourceFile:
    """A file to index and the name it is known by (relative to its corpus root)."""

    path: Path
    root: Path
    source: str


def find_files(paths: list[str | Path]) -> tuple[list[SourceFile], list[Path], dict[str, str]]:
    """Expand files and directories (recursively) into supported source files.

    Returns the files, the directories scanned (files deleted from them leave the
    index), and the files skipped (unsupported, or a name already taken by a file of
    another folder), each with a warning. A missing path raises DocumentError.
    """
    files: dict[str, SourceFile] = {}
    scanned_dirs: list[Path] = []
    skipped: dict[str, str] = {}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise DocumentError(f"{given}: no such file or directory; check the path and try again")
        path = path.resolve()
        if path.is_dir():
            scanned_dirs.append(path)
            candidates = sorted(p for p in path.rglob("*") if p.is_file())
            root = path
        else:
            candidates, root = [path], path.parent
        for file in candidates:
            if any(part.startswith(".") for part in file.relative_to(root).parts):
                continue  # hidden files and folders (.git, .DS_Store) are never documents
            source = file.relative_to(root).as_posix()
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped[source] = (
                    f"{source}: skipped, unsupported file type {file.suffix or '(none)'!r}; "
                    f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
                )
                continue
            if source in files and files[source].path != file:
                skipped[source] = (
                    f"{file}: skipped, its name {source!r} is taken by {files[source].path}; "
                    "rename one, or index their common parent folder"
                )
                continue
            files[source] = SourceFile(file, root, source)
    return list(files.values()), scanned_dirs, skipped


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as UTF-8, falling back to Windows-1252 then Latin-1; never fails on a bad byte."""
    if not data.strip():
        raise DocumentError(f"{name}: the file is empty; add some text or remove it")
    head = data[:8192]
    control = sum(b < 32 and b not in b"\t\n\r\f" for b in head)
    if b"\x00" in head or control > len(head) * 0.1:
        raise DocumentError(
            f"{name}: looks like a binary file, not text; "
            "convert it to .txt, .md or .pdf before indexing"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_pdf(path: Path, source: str) -> tuple[list[Document], list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(
                f"{source}: the PDF is encrypted; save an unprotected copy and index that"
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise DocumentError(
            f"{source}: cannot read this PDF ({type(error).__name__}: {error}); "
            "it may be damaged: re-export it, or convert it to text"
        ) from error
    except Exception as error:  # pypdf raises many kinds on broken files
        if "crypt" in str(error).lower():
            raise DocumentError(
                f"{source}: the PDF is encrypted; save an unprotected copy and index that"
            ) from error
        raise DocumentError(f"{source}: cannot read this PDF ({error}); re-export it") from error
    documents = [
        Document(source=source, text=text.replace("\r\n", "\n"), page=number)
        for number, text in enumerate(pages, start=1)
        if text.strip()
    ]
    if not documents:
        raise DocumentError(
            f"{source}: no extractable text — scanned? Run OCR on it (e.g. ocrmypdf) and index the result"
        )
    warnings = [
        f"{source}: page {number} has no extractable text — scanned?"
        for number, text in enumerate(pages, start=1)
        if not text.strip()
    ]
    return documents, warnings


def load_documents(path: Path, source: str) -> tuple[list[Document], list[str]]:
    """Read one file into Documents (one per PDF page) and any warnings about it.

    Raises DocumentError, naming the file and what to do, when nothing can be read.
    """
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _load_pdf(path, source)
    if suffix not in TEXT_SUFFIXES:
        raise DocumentError(
            f"{source}: unsupported file type {suffix!r}; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{source}: cannot read the file ({error.strerror})") from error
    return [Document(source=source, text=decode_text(data, source))], []
