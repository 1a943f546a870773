"""The library's exceptions: one base class, messages that say what to do."""


class RagError(Exception):
    """Base class for every error this library raises on purpose."""


class DocumentError(RagError):
    """A document could not be read (missing, empty, binary, corrupt, encrypted, over a limit).

    ``kind`` names the reason in the plural ("encrypted PDFs"), so that a report can
    count many refusals of one kind instead of listing each ("… and 40 more encrypted PDFs").
    """

    def __init__(self, message: str, kind: str = "files that could not be read") -> None:
        super().__init__(message)
        self.kind = kind


class IndexFormatError(RagError):
    """An index is missing, damaged, or was built with another model or format."""
