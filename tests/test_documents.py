import pytest

from rag.documents import decode_text, find_files, load_documents
from rag.errors import DocumentError
from tests.pdfs import encrypted_pdf, text_pdf


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_pdf_gives_one_document_per_page_with_page_numbers(tmp_path):
    pdf = write(tmp_path / "report.pdf", text_pdf(["Alpha page one text.", "Beta page two text.", "Gamma page three."]))
    documents, warnings = load_documents(pdf, "report.pdf")
    assert [(d.page, d.text.strip()) for d in documents] == [
        (1, "Alpha page one text."),
        (2, "Beta page two text."),
        (3, "Gamma page three."),
    ]
    assert warnings == []


def test_pdf_page_without_text_is_reported_not_fatal(tmp_path):
    pdf = write(tmp_path / "mixed.pdf", text_pdf(["Some text on page one.", ""]))
    documents, warnings = load_documents(pdf, "mixed.pdf")
    assert [d.page for d in documents] == [1]
    assert warnings == ["mixed.pdf: page 2 has no extractable text — scanned?"]


def test_pdf_with_no_text_at_all_says_scanned(tmp_path):
    pdf = write(tmp_path / "scan.pdf", text_pdf(["", ""]))
    with pytest.raises(DocumentError, match="scan.pdf: no extractable text — scanned?"):
        load_documents(pdf, "scan.pdf")


def test_encrypted_pdf_is_a_clear_error(tmp_path):
    pdf = write(tmp_path / "locked.pdf", encrypted_pdf("Hidden text."))
    with pytest.raises(DocumentError, match="locked.pdf: the PDF is encrypted"):
        load_documents(pdf, "locked.pdf")


def test_corrupt_pdf_is_a_clear_error(tmp_path):
    pdf = write(tmp_path / "broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage\n%%EOF")
    with pytest.raises(DocumentError, match="broken.pdf: cannot read this PDF"):
        load_documents(pdf, "broken.pdf")


def test_empty_and_binary_files_are_clear_errors(tmp_path):
    with pytest.raises(DocumentError, match="empty.txt: the file is empty"):
        load_documents(write(tmp_path / "empty.txt", "  \n"), "empty.txt")
    with pytest.raises(DocumentError, match="blob.txt: looks like a binary file"):
        load_documents(write(tmp_path / "blob.txt", bytes(range(256)) * 4), "blob.txt")


def test_text_decoding_never_fails_on_a_bad_byte():
    assert decode_text("café".encode("utf-8"), "a") == "café"
    assert decode_text("café".encode("cp1252"), "b") == "café"
    assert decode_text(b"\xef\xbb\xbfBOM first\r\nline", "c") == "BOM first\nline"
    assert decode_text(b"odd \x81\x8d\x8f\x90\x9d bytes", "d").startswith("odd ")


def test_find_files_recurses_skips_unsupported_and_hidden(tmp_path):
    write(tmp_path / "a.txt", "text")
    write(tmp_path / "sub" / "b.md", "# md")
    write(tmp_path / "sub" / "c.pdf", text_pdf(["x"]))
    write(tmp_path / "image.png", b"\x89PNG")
    write(tmp_path / ".git" / "config.txt", "hidden")
    files, scanned, unsupported = find_files([tmp_path])
    assert sorted(f.source for f in files) == ["a.txt", "sub/b.md", "sub/c.pdf"]
    assert scanned == [tmp_path.resolve()]
    assert list(unsupported) == ["image.png"]
    assert unsupported["image.png"].startswith("image.png: skipped, unsupported file type '.png'")


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DocumentError, match="no such file or directory"):
        find_files([tmp_path / "nope"])
