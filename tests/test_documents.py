import codecs

import pytest

from rag.config import Limits
from rag.documents import decode_text, find_files, load_documents
from rag.errors import DocumentError, RagError
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
    assert [str(w) for w in warnings] == ["mixed.pdf: page 2 has no extractable text — scanned?"]
    assert warnings[0].kind == "pages with no extractable text"


def test_pdf_with_no_text_at_all_says_scanned(tmp_path):
    pdf = write(tmp_path / "scan.pdf", text_pdf(["", ""]))
    with pytest.raises(DocumentError, match="scan.pdf: no extractable text — scanned?"):
        load_documents(pdf, "scan.pdf")


ALGORITHMS = ["RC4-40", "RC4-128", "AES-128", "AES-256"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pdf_with_an_empty_user_password_opens_like_in_any_viewer(tmp_path, algorithm):
    # Owner-password-only PDFs (printing or copying restricted) are common in the wild.
    pdf = write(tmp_path / "restricted.pdf", encrypted_pdf("Quarterly figures rose.", "", "owner", algorithm))
    documents, _ = load_documents(pdf, "restricted.pdf")
    assert [d.text.strip() for d in documents] == ["Quarterly figures rose."]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pdf_that_needs_a_password_says_so_and_how_to_remove_it(tmp_path, algorithm):
    pdf = write(tmp_path / "locked.pdf", encrypted_pdf("Hidden text.", "secret", "owner", algorithm))
    with pytest.raises(DocumentError, match="locked.pdf: the PDF needs a password to open; remove it") as caught:
        load_documents(pdf, "locked.pdf")
    assert "qpdf --password=PASSWORD --decrypt locked.pdf unlocked.pdf" in str(caught.value)
    assert caught.value.kind == "password-protected PDFs"


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_pdf_without_the_cryptography_package_says_what_to_install(tmp_path, algorithm):
    import subprocess
    import sys

    pdf = write(tmp_path / "aes.pdf", encrypted_pdf("Text.", "", "owner", algorithm))
    script = (  # a fresh interpreter where `import cryptography` fails, as before this dependency
        "import sys; sys.modules['cryptography'] = None; sys.modules['Crypto'] = None\n"
        "from pathlib import Path; from rag.documents import load_documents; from rag.errors import DocumentError\n"
        f"try: load_documents(Path({str(pdf)!r}), 'aes.pdf')\n"
        "except DocumentError as error: print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.startswith("aes.pdf: the PDF is encrypted and reading it needs the cryptography package")
    assert out.rstrip().endswith("install it: pip install 'pypdf[crypto]'")


def test_corrupt_pdf_is_a_clear_error(tmp_path):
    pdf = write(tmp_path / "broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage\n%%EOF")
    with pytest.raises(DocumentError, match="broken.pdf: cannot read this PDF"):
        load_documents(pdf, "broken.pdf")


def test_empty_and_binary_files_are_clear_errors(tmp_path):
    with pytest.raises(DocumentError, match="empty.txt: the file is empty"):
        load_documents(write(tmp_path / "empty.txt", "  \n"), "empty.txt")
    with pytest.raises(DocumentError, match="blob.txt: looks like a binary file"):
        load_documents(write(tmp_path / "blob.txt", bytes(range(256)) * 4), "blob.txt")


def decoded(data: bytes) -> tuple[str, list[str]]:
    text, notices = decode_text(data, "f.txt")
    return text, [str(n) for n in notices]


def test_utf8_with_a_few_invalid_bytes_keeps_every_valid_character():
    # One stray byte used to send the whole file to cp1252: "Dr. MÃ¼ller from TÃ¼rkiye".
    text, notices = decoded(b"Dr. M\xc3\xbcller from T\xc3\xbcrkiye.\n\xff\n")
    assert text == "Dr. Müller from Türkiye.\n\ufffd\n"
    assert notices == ["f.txt: 1 invalid byte replaced with \ufffd (the rest is UTF-8); "
                       "save the file as UTF-8 to keep those characters"]
    text, notices = decoded("Grüße aus Köln. ".encode() * 3 + b"\x81\xfe bad \xed\xa0\x80 surrogate")
    assert text == "Grüße aus Köln. " * 3 + "\ufffd\ufffd bad \ufffd\ufffd\ufffd surrogate"
    assert notices[0].startswith("f.txt: 5 invalid bytes replaced")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"])
def test_byte_order_mark_decides_the_encoding(encoding):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE,
           "utf-32-be": codecs.BOM_UTF32_BE, "utf-8": codecs.BOM_UTF8}[encoding]
    text = "Grüße aus Köln — 日本語 😀\r\nzweite Zeile"
    assert decoded(bom + text.encode(encoding)) == ("Grüße aus Köln — 日本語 😀\nzweite Zeile", [])


def test_utf16_with_a_broken_tail_is_replaced_and_counted():
    text, notices = decoded(codecs.BOM_UTF16_LE + "Hello there".encode("utf-16-le") + b"\x00\xd8")
    assert text == "Hello there\ufffd" and notices[0].startswith("f.txt: 1 invalid byte replaced")


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("café crème, naïve façade — déjà vu. " * 3, "cp1252"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy. " * 3, "cp1250"),
        ("Привет, как дела? Всё хорошо, спасибо. " * 3, "cp1251"),
    ],
)
def test_files_that_are_not_utf8_at_all_go_to_the_detector(text, encoding):
    got, notices = decoded(text.encode(encoding))
    assert got == text
    assert notices == [f"f.txt: not UTF-8; read as {encoding} (a guess); if some letters look wrong, "
                       "save the file as UTF-8 and index it again"]


def test_bytes_the_guessed_code_page_leaves_undefined_are_counted(monkeypatch):
    monkeypatch.setattr("rag.documents._guess_encoding", lambda data: "cp1252")  # as when the detector finds nothing
    text, notices = decoded("café crème, déjà vu. ".encode("cp1252") + b"\x81")
    assert text == "café crème, déjà vu. \ufffd"
    assert notices[1] == ("f.txt: 1 invalid byte replaced with \ufffd (the rest is cp1252); "
                          "save the file as UTF-8 to keep those characters")


def test_text_decoding_never_fails_on_a_bad_byte():
    assert decoded("café".encode("utf-8")) == ("café", [])
    assert decoded("café".encode("cp1252"))[0] == "café"
    assert decoded(b"\xef\xbb\xbfBOM first\r\nline") == ("BOM first\nline", [])
    assert decoded(b"odd \x81\x8d\x8f\x90\x9d bytes")[0].startswith("odd ")
    assert decoded(b"plain ascii and one \xff byte")[0].startswith("plain ascii and one ")


def test_bom_only_and_binary_after_a_bom_are_refused():
    with pytest.raises(DocumentError, match="the file is empty"):
        decode_text(codecs.BOM_UTF16_LE, "f.txt")
    with pytest.raises(DocumentError, match="looks like a binary file"):
        decode_text(codecs.BOM_UTF16_LE + "\x00\x01binary\x00".encode("utf-16-le") * 50, "f.txt")


def test_text_over_the_character_limit_is_refused(tmp_path):
    limits = Limits(max_chars=1_000)
    ok = write(tmp_path / "ok.txt", "x" * 1_000)
    assert len(load_documents(ok, "ok.txt", limits)[0][0].text) == 1_000
    with pytest.raises(DocumentError, match=r"long.txt: 1,001 characters of text, over the limit of 1,000 characters "
                                            r"per file; split the file, or raise the limit \(RAG_MAX_CHARS\)"):
        load_documents(write(tmp_path / "long.txt", "x" * 1_001), "long.txt", limits)
    # Far over the limit: refused from its size, without reading it.
    with pytest.raises(DocumentError, match=r"huge.txt: 4,001 bytes of text \(at least 1,000 characters\), over the limit"):
        load_documents(write(tmp_path / "huge.txt", "x" * 4_001), "huge.txt", limits)


def test_pdf_over_the_page_limit_is_refused_before_reading_pages(tmp_path):
    pdf = write(tmp_path / "blank.pdf", text_pdf(["Only text here."] + [""] * 10))
    with pytest.raises(DocumentError, match=r"blank.pdf: 11 pages, over the limit of 10 pages per PDF; "
                                            r"split the PDF, or raise the limit \(RAG_MAX_PAGES\)"):
        load_documents(pdf, "blank.pdf", Limits(max_pages=10))
    assert len(load_documents(pdf, "blank.pdf", Limits(max_pages=11))[0]) == 1


def test_pdf_whose_page_count_lies_is_still_counted(tmp_path):
    pdf = write(tmp_path / "liar.pdf", text_pdf(["Only text here."] + [""] * 10).replace(b"/Count 11", b"/Count 1 "))
    with pytest.raises(DocumentError, match=r"liar.pdf: 11 pages, over the limit of 10 pages per PDF"):
        load_documents(pdf, "liar.pdf", Limits(max_pages=10))


def test_pdf_page_that_expands_far_beyond_the_text_allowed_is_refused_before_parsing(tmp_path):
    pdf = write(tmp_path / "page-bomb.pdf", text_pdf(["All work and no play.\n" * 2_000], compress=True))
    with pytest.raises(DocumentError, match=r"page-bomb.pdf: page 1 expands to [\d,]+ bytes of page content, far "
                                            r"more than the 1,000 characters of text this file may hold: a compression "
                                            r"bomb\? If you trust it, raise the limit \(RAG_MAX_CHARS\)"):
        load_documents(pdf, "page-bomb.pdf", Limits(max_chars=1_000))
    assert len(load_documents(pdf, "page-bomb.pdf", Limits(max_chars=50_000, max_ratio=100))[0][0].text) > 40_000


def test_pdf_over_the_character_limit_is_refused(tmp_path):
    pdf = write(tmp_path / "long.pdf", text_pdf(["A sentence of text on a page."] * 20))
    with pytest.raises(DocumentError, match=r"long.pdf: more than 100 characters of text, over the limit of 100"):
        load_documents(pdf, "long.pdf", Limits(max_chars=100))


def test_pdf_with_far_more_text_than_its_size_allows_is_a_bomb(tmp_path):
    pdf = write(tmp_path / "bomb.pdf", text_pdf(["A sentence of text on a page."] * 20))
    size = pdf.stat().st_size
    with pytest.raises(DocumentError, match=rf"bomb.pdf: this PDF of {size:,} bytes holds more than \d+ characters "
                                            r"of text, over 0.05 characters per byte of file: a compression bomb"):
        load_documents(pdf, "bomb.pdf", Limits(max_ratio=0.05))  # 580 characters in about 6,000 bytes
    assert len(load_documents(pdf, "bomb.pdf", Limits(max_ratio=1))[0]) == 20


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_MAX_CHARS", "2_000")
    monkeypatch.setenv("RAG_MAX_PAGES", "7")
    monkeypatch.setenv("RAG_MAX_TEXT_RATIO", "2.5")
    assert Limits.from_env() == Limits(max_chars=2000, max_pages=7, max_ratio=2.5)
    monkeypatch.setenv("RAG_MAX_PAGES", "many")
    with pytest.raises(RagError, match=r"RAG_MAX_PAGES='many' is not a positive whole number; "
                                       r"set it like RAG_MAX_PAGES=5000"):
        Limits.from_env()


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
    assert str(unsupported["image.png"]).startswith("image.png: skipped, unsupported file type '.png'")


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DocumentError, match="no such file or directory"):
        find_files([tmp_path / "nope"])
