"""Measure how the loader treats hostile and heavy files: decoding, limits, bombs.

    .venv/bin/python scripts/hostile_inputs.py decoding       # which encodings come back right
    .venv/bin/python scripts/hostile_inputs.py limits [DIR]   # time to refuse bombs, to pass big books
    .venv/bin/python scripts/hostile_inputs.py ratio PDF...   # characters of text per byte of file

Bombs and books are written to DIR (default: a temporary folder). Timings are medians
of three runs of ``load_documents`` with the default limits (``rag.config.Limits``).
Nothing here is a test: the numbers go into the README.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import Limits  # noqa: E402
from rag.documents import _decode_utf8, _guess_encoding, load_documents  # noqa: E402
from rag.errors import DocumentError  # noqa: E402
from tests.pdfs import text_pdf  # noqa: E402

SCIFACT = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "scifact" / "corpus.jsonl"

SAMPLES = {
    "cp1252": [
        "café crème, naïve façade — déjà vu. ",
        "Über München, Zürich und Köln fährt der Zug schön weiter. ",
        "El niño comió piñata en la montaña, ¿verdad? ",
        "The “quoted” words — and the naïve café’s menu… €5. ",
    ],
    "cp1250": ["Příliš žluťoučký kůň úpěl ďábelské ódy. ", "Zażółć gęślą jaźń, pchnąć w tę łódź jeża. "],
    "cp1257": ["Įlinkdama fechtuotojo špaga sublykčiojusi pragręžė apvalų arbūzą. "],
    "cp1251": ["Привет, как дела? Всё хорошо, спасибо. "],
    "cp1253": ["Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. "],
    "cp1254": ["Pijamalı hasta yağız şoföre çabucak güvendi. "],
}


def decoding() -> None:
    """For each rule, how many of the samples (each at 1, 3 and 30 repetitions) decode exactly."""
    from charset_normalizer import from_bytes

    def detector_alone(data: bytes) -> str:
        best = from_bytes(data).best()
        return best.encoding if best else "cp1252"

    rules = {"cp1252 always (before)": lambda data: "cp1252", "charset-normalizer alone": detector_alone,
             "shipped (_guess_encoding)": _guess_encoding}
    cases = [(encoding, text * n) for encoding, texts in SAMPLES.items() for text in texts for n in (1, 3, 30)]
    for name, rule in rules.items():
        right = sum(data.decode(rule(data), "replace") == text for encoding, text in cases
                    for data in [text.encode(encoding)])
        print(f"{name:28} {right:2d} of {len(cases)} decoded exactly")
    mixed = b"Dr. M\xc3\xbcller from T\xc3\xbcrkiye.\n\xff\n"
    print(f"UTF-8 with one bad byte: {_decode_utf8(mixed)!r}  (before: {mixed.decode('cp1252', 'replace')!r})")


def _median_seconds(run, repeats: int = 3) -> tuple[float, float, str]:
    """Median wall and CPU seconds of ``run`` (CPU time is steadier on a shared machine)."""
    times, cpu, outcome = [], [], ""
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            documents, _ = run()
            outcome = f"passes: {len(documents)} document(s), {sum(len(d.text) for d in documents):,} characters"
        except DocumentError as error:
            outcome = "refused: " + str(error).split(": ", 1)[1][:110]
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), statistics.median(cpu), outcome


def _scifact_text(chars: int) -> str:
    parts, total = [], 0
    with open(SCIFACT, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            part = f"{record['title']}\n\n{record['text']}\n\n"
            parts.append(part)
            total += len(part)
            if total >= chars:
                break
    return "".join(parts)[:chars]


def _book_pages(text: str, lines_per_page: int = 50) -> list[str]:
    lines = [line for paragraph in text.split("\n") for line in textwrap.wrap(paragraph, 90) or [""]]
    return ["\n".join(lines[i : i + lines_per_page]) for i in range(0, len(lines), lines_per_page)]


def limits(folder: Path) -> None:
    print(f"limits: {Limits()}")
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def make(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        files[name] = folder / name

    book = _scifact_text(3_200_000)  # the length of War and Peace, in real (scientific) prose
    make("book-3.2M-chars.txt", book.encode("utf-8"))
    make("book-3.2M-chars.pdf", text_pdf(_book_pages(book), compress=True))
    report = _scifact_text(1_000_000)
    make("report-1M-chars.pdf", text_pdf(_book_pages(report), compress=True))
    line = "All work and no play makes Jack a dull boy. " * 2 + "\n"
    make("text-bomb-200MB.txt", (line * (200_000_000 // len(line))).encode())
    make("pdf-bomb-2000-pages.pdf", text_pdf([line * 60] * 2_000, compress=True))
    make("pdf-bomb-one-page.pdf", text_pdf([line * 400_000], compress=True))
    make("blank-30000-pages.pdf", text_pdf(["First page text."] + [""] * 29_999, compress=True))
    # The shape of the 626 KB PDF that expands to 4.4 MB: repetitive pages.
    make("repetitive-4.4M-chars.pdf", text_pdf([report[i * 2_000 : i * 2_000 + 2_000] for i in range(20)] * 110,
                                               compress=True))
    print(f"{'file':28} {'bytes':>12} {'wall s':>7} {'CPU s':>6}  outcome (median of 3)")
    for name, path in files.items():
        seconds, cpu, outcome = _median_seconds(lambda: load_documents(path, name))
        print(f"{name:28} {path.stat().st_size:>12,} {seconds:7.2f} {cpu:6.2f}  {outcome}")


def ratio(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        documents, _ = load_documents(path, path.name, Limits(max_chars=10**9, max_pages=10**6, max_ratio=10**6))
        chars = sum(len(d.text) for d in documents)
        print(f"{path}: {chars:,} characters / {path.stat().st_size:,} bytes = {chars / path.stat().st_size:.2f}")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "decoding"
    if command == "decoding":
        decoding()
    elif command == "ratio":
        ratio(sys.argv[2:])
    elif command == "limits":
        limits(Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="rag-hostile-")))
    else:
        sys.exit(__doc__)
