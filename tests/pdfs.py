"""Tiny PDFs written by hand, so tests need no PDF-making dependency."""

from __future__ import annotations

import zlib


def text_pdf(pages: list[str], compress: bool = False) -> bytes:
    """A PDF with Helvetica text, a line per line of each page ("" makes a page with no text).

    ``compress`` deflates the pages' content, as real PDFs do.
    """
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for number, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        lines = ") Tj T* (".join(escaped.split("\n"))
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td ({lines}) Tj ET".encode("latin-1", "replace") if text else b""
        filters = b""
        if compress and stream:
            stream, filters = zlib.compress(stream, 9), b" /Filter /FlateDecode"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_ids[number] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypted_pdf(
    text: str, user_password: str = "secret", owner_password: str = "owner", algorithm: str = "AES-256"
) -> bytes:
    """``text_pdf([text])`` encrypted by pypdf; an empty user password opens it in any viewer."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf([text]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
