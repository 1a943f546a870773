"""The library's exceptions: one base class, messages that say what to do."""


class RagError(Exception):
    """Base class for every error this library raises on purpose."""


class DocumentError(RagError):
    """A document could not be read (missing, empty, binary, corrupt, encrypted)."""


class IndexFormatError(RagError):
    """An index is missing, damaged, or was built with another model or format."""
