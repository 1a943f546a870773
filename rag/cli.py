"""The `rag` command line: index, search, ask, info, eval, serve."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path
from typing import Callable, TextIO

from rag.errors import RagError


def _add_index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", metavar="DIR", help="index folder (default: the project's index/, or $RAG_INDEX)")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    parser.add_argument("--date-from", metavar="YYYY-MM-DD", help="only passages dated on or after")
    parser.add_argument("--date-to", metavar="YYYY-MM-DD", help="only passages dated on or before")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    _add_index_option(parser)


def _place(hit) -> str:
    page = f", page {hit.page}" if hit.page else ""
    return f"{hit.date or 'undated'}  {hit.source}{page}"


def _one_line(text: str, width: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class ProgressLine:
    """Progress of a long ``rag index`` on stderr, so a big file is never a silent wait.

    Nothing is shown for the first ``delay`` seconds: a quick sync prints only its
    summary. After that, on a terminal one line is rewritten in place (at most five
    times a second) and wiped at the end; in a pipe or a log, a new line at most every
    ``every`` seconds.
    """

    def __init__(
        self, stream: TextIO | None = None, delay: float = 2.0, every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.delay, self.every, self.clock = delay, every, clock
        self.started = clock()
        self.last = float("-inf")
        self.width = 0

    def __call__(self, fraction: float, message: str) -> None:
        now = self.clock()
        if now - self.started < self.delay or now - self.last < (0.2 if self.tty else self.every):
            return
        self.last = now
        line = f"[{fraction:4.0%}] {message}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _damaged(index: Path) -> tuple[list[str], list[Path], dict[str, str]]:
    """What ``rag info --check`` finds wrong with the live index at ``index``, with what a rebuild needs.

    Returns the problems ([] when sound, or when there is no index yet), the files the
    damaged index held (from its manifest, when that is readable), and its model and tagger.
    """
    from rag.errors import IndexFormatError
    from rag.store import read_manifest, verify

    if not (index / "CURRENT").is_file():  # no index yet, or not a folder: sync says what to do
        return [], [], {}
    problems = verify(index)
    if not problems:
        return [], [], {}
    try:
        manifest = read_manifest(index)
    except IndexFormatError:
        manifest = None
    if manifest is None:
        return problems, [], {}
    held: list[Path] = []
    for source, record in manifest.files.items():
        # A file indexed on its own is passed again on its own; one found in a folder, with its folder.
        path = Path(record.root) / source if "/" not in source else Path(record.root)
        if path.exists() and path not in held:
            held.append(path)
    return problems, held, {"model": manifest.model, "tagger": manifest.tagger}


def cmd_index(args) -> int:
    from rag.config import default_index_path
    from rag.indexing import sync

    paths, rebuild, chosen = list(args.paths), args.rebuild, {"model": args.model, "tagger": args.tagger}
    if not rebuild:
        index = Path(args.index) if args.index else default_index_path()
        problems, held, kept = _damaged(index)
        if problems:
            more = f" (and {len(problems) - 1} more problem(s); rag info --check lists them)" if len(problems) > 1 else ""
            again = f" and the {len(held)} file(s) or folder(s) it held" if held else ""
            print(f"warning: {index}: the index is damaged: {problems[0]}{more}; rebuilding it from the paths "
                  f"given{again}", file=sys.stderr)
            paths += [str(path) for path in held]
            rebuild = True
            chosen = {name: chosen[name] or kept.get(name) for name in chosen}

    progress = ProgressLine()
    try:
        report = sync(paths, args.index, model=chosen["model"], tagger=chosen["tagger"], rebuild=rebuild,
                      progress=progress, ray=args.ray)
    finally:
        progress.close()
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
        f"unchanged {len(report.unchanged)}, skipped {len(report.skipped)} file(s); "
        f"{report.chunks_added} passages in, {report.chunks_removed} out, {report.chunks_embedded} embedded"
    )
    return 1 if report.skipped and not (report.added or report.updated or report.unchanged) else 0


def cmd_search(args) -> int:
    from rag.search import search

    hits = search(args.query, args.k, index=args.index, date_from=args.date_from, date_to=args.date_to, source=args.source)
    if args.json:
        from rag.serialize import hit_to_dict

        print(json.dumps([hit_to_dict(h) for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("no passages match (check the filters)")
    for hit in hits:
        print(f"{hit.rank}. [{hit.score:.4f}] {_place(hit)}\n   {_one_line(hit.text)}\n")
    return 0


def _add_llm_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--llm-url", metavar="URL",
                        help="an OpenAI-compatible server that writes the answer, e.g. http://127.0.0.1:11434/v1 "
                        "for Ollama (default: $RAG_LLM_URL; none: answers are quoted)")
    parser.add_argument("--llm-model", metavar="NAME", help="the model it should use, e.g. llama3.2 (default: $RAG_LLM_MODEL)")


def _llm_server(args):
    """The language model server the command line or the environment names, or None."""
    from rag.generation import LLMServer

    return LLMServer.from_env(url=args.llm_url, model=args.llm_model)


def cmd_ask(args) -> int:
    from rag.answering import answer

    llm = _llm_server(args) if args.mode != "extract" else None
    result = answer(args.question, args.k, index=args.index, date_from=args.date_from, date_to=args.date_to,
                    mode=args.mode, llm=llm)
    if args.json:
        from rag.serialize import answer_to_dict

        print(json.dumps(answer_to_dict(result), ensure_ascii=False, indent=1))
        return 0
    if result.found and result.short:
        print(result.short)  # the answer itself first; the quotes below are its evidence
        print()
    print(result.text)
    if result.note:
        print(f"\n({result.note})")
    if result.unsupported:
        print("\nNot supported by the sources (removed):")
        for sentence in result.unsupported:
            print(f"  - {sentence}")
    if result.citations:
        print()
        for citation in result.citations:
            print(f"[{citation.marker}] {_place(citation.hit)} (chars {citation.start}-{citation.end})")
    else:
        print("\nClosest passages:")
        for hit in result.hits[:3]:
            print(f"  {hit.rank}. {_place(hit)}: {_one_line(hit.text, 160)}")
    return 0


def cmd_info(args) -> int:
    from rag.search import open_index

    if args.check:
        return check_index(args)
    info = open_index(args.index).info()
    if args.json:
        print(json.dumps(dataclasses.asdict(info), indent=1))
        return 0
    print(
        f"index      {info.path}\ndocuments  {info.documents}\npassages   {info.chunks}\n"
        f"model      {info.model} ({info.dimension} dimensions)\n"
        f"size       {info.size_bytes / 1e6:.2f} MB\nupdated    {info.updated}\n"
        f"sentences  vectors stored for {info.sentence_vectors} of {info.chunks} passages"
        + ("" if info.sentence_vectors == info.chunks else " (the others' are encoded when an answer needs them)")
    )
    return 0


def check_index(args) -> int:
    """``rag info --check``: 0 when the index is sound, 1 with what is damaged, changing nothing."""
    from rag.config import default_index_path
    from rag.store import live_version, read_manifest, verify

    path = Path(args.index) if args.index else default_index_path()
    if not (path / "CURRENT").exists() and live_version(path) is None:  # a file, or no index: not damage
        raise RagError(f"no index at {path}; build one with: rag index PATH... --index {path}")
    problems = verify(path)
    if args.json:
        print(json.dumps({"path": str(path), "ok": not problems, "problems": problems}, indent=1))
    elif problems:
        print(f"{path}: the index is damaged", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(f"rebuild it: rag index PATH... --index {path} --rebuild", file=sys.stderr)
    else:
        manifest = read_manifest(path)
        passages = sum(len(r.chunk_ids) for r in manifest.files.values())
        print(f"{path}: ok ({len(manifest.files)} documents, {passages} passages, each with its vector)")
    return 1 if problems else 0


def cmd_eval(args) -> int:
    from rag import evaluation

    if args.beir:
        from rag import beir

        print(beir.format_beir(beir.evaluate_beir(args.beir, max_queries=args.max_queries)))
        return 0
    questions = evaluation.load_devset(args.file)
    report = evaluation.evaluate_devset(questions, index=args.index)
    print(evaluation.format_devset(report, show_wrong=not args.quiet))
    return 0


def _warm_up(index) -> None:
    """Open the index and load the query encoder, so the app's first question doesn't wait."""
    from rag.search import search

    try:
        search("warm up", k=1, index=index)
    except (RagError, OSError) as error:  # the app reports it on the page, where it can be fixed
        logging.getLogger(__name__).warning("the index is not ready: %s", error)


def cmd_serve(args) -> int:
    import threading

    llm = _llm_server(args)  # a mistake in it is said before anything loads

    # Loading the index and the encoder overlaps with importing gradio (seconds); the
    # address is printed only once both are done, when the app can answer at once.
    warm = threading.Thread(target=_warm_up, args=(args.index,), daemon=True)
    warm.start()
    try:
        from ui.app import serve
    except ImportError as error:
        if (error.name or "").split(".")[0] not in ("gradio", "gradio_client"):
            raise
        raise RagError(
            f"the web app needs gradio, which is not installed ({error}); install the app extra: "
            "pip install -e '.[app]' (or run `make run`)"
        ) from error
    finally:
        warm.join()
    serve(host=args.host, port=args.port, index=args.index, llm=llm)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Offline question answering over your documents.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("index", help="add or update documents (.txt, .md, .pdf; files or folders)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument(
        "--model",
        help="embedding model: all-MiniLM-L6-v2 (default), a local sentence-transformers folder, "
        "or hash (a torch-free stand-in for tests)",
    )
    p.add_argument(
        "--tagger", choices=["spacy", "rules", "none"],
        help="named entities of passages: spacy (default), rules (a test aid) or none (fastest; untyped answers)",
    )
    p.add_argument("--rebuild", action="store_true", help="start a fresh index instead of updating")
    p.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="read, chunk and embed on Ray: a local Ray on this machine, or the cluster at ADDRESS "
        "(host:6379, from `ray start --head`); needs pip install -e '.[cluster]'",
    )
    _add_index_option(p)
    p.set_defaults(run=cmd_index)

    p = commands.add_parser("search", help="print the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--source", help="only this source file (a glob works: 'reports/*.pdf')")
    _add_filters(p)
    p.set_defaults(run=cmd_search)

    p = commands.add_parser("ask", help="answer a question with cited quotes (or generated, checked sentences)")
    p.add_argument("question")
    _add_filters(p)
    p.add_argument("--mode", choices=["auto", "extract", "generate"], default="auto",
                   help="extract: quote; generate: a language model writes it, each sentence checked against its "
                   "passage (needs --llm-url/--llm-model or $RAG_LLM_URL/$RAG_LLM_MODEL); auto (default): "
                   "generate when a server is configured, else quote")
    _add_llm_options(p)
    p.set_defaults(run=cmd_ask)

    p = commands.add_parser("info", help="documents, passages, model and size of an index")
    p.add_argument("--json", action="store_true")
    p.add_argument("--check", action="store_true", help="verify the index (changes nothing); exit 1 if damaged")
    _add_index_option(p)
    p.set_defaults(run=cmd_info)

    p = commands.add_parser("eval", help="measure retrieval and answers on a dev set or a BEIR folder")
    p.add_argument("file", nargs="?", default=str(Path(__file__).resolve().parent.parent / "eval" / "devset.jsonl"))
    p.add_argument("--beir", metavar="DIR", help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    p.add_argument("--max-queries", type=int, help="evaluate only the first N BEIR queries")
    p.add_argument("--quiet", action="store_true", help="figures only, no question ids (for a held-out set)")
    _add_index_option(p)
    p.set_defaults(run=cmd_eval)

    p = commands.add_parser("serve", help="start the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    _add_index_option(p)
    _add_llm_options(p)
    p.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.run(args)
    except (RagError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a path that can't be read or written: say which, without a traceback
        print(f"error: {error.strerror or error}: {error.filename or ''}; check the path and its permissions",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
