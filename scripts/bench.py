"""Speed of the default corpus on this machine: build, re-sync, search(), answer().

    .venv/bin/python scripts/bench.py            # or: make bench

Cold build and re-sync run in fresh processes, so they include interpreter start
and imports, as a user waits for them. Timings are medians; the machine is noisy.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

BUILD = """
import json, sys, time
started = time.perf_counter()
marks = {}
import sentence_transformers  # the heaviest import, timed on its own
marks["imports"] = time.perf_counter() - started
from rag.embedding import get_document_embedder
from rag.config import default_model
get_document_embedder(default_model()).model
marks["model load"] = time.perf_counter() - started
import rag
def progress(fraction, message):
    if message.startswith("embedding") and "encoding starts" not in marks:
        marks["encoding starts"] = time.perf_counter() - started
    if message == "writing the index":
        marks["encoding"] = time.perf_counter() - started
report = rag.sync([sys.argv[1]], sys.argv[2], progress=progress)
marks["written"] = time.perf_counter() - started
import resource
marks["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
marks["chunks"] = report.chunks_added
print(json.dumps(marks))
"""

RESYNC = """
import sys, time
started = time.perf_counter()
import rag
report = rag.sync([sys.argv[1]], sys.argv[2])
print(time.perf_counter() - started, report.changed, "torch" in sys.modules)
"""


def run(code: str, *args: str) -> str:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    return out, time.perf_counter() - start


def main() -> None:
    from rag.evaluation import load_devset

    corpus = str(PROJECT / "corpus")
    questions = [q.question for q in load_devset(PROJECT / "eval" / "devset.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        builds = []
        for attempt in range(3):
            out, wall = run(BUILD, corpus, f"{tmp}/index{attempt}")
            marks = json.loads(out)
            marks["process"] = wall
            builds.append(marks)
        build = {key: statistics.median(b[key] for b in builds) for key in builds[0]}
        resyncs = [run(RESYNC, corpus, f"{tmp}/index0") for _ in range(5)]
        resync_call = statistics.median(float(out.split()[0]) for out, _ in resyncs)
        resync_process = statistics.median(wall for _, wall in resyncs)
        resync_flags = {tuple(out.split()[1:]) for out, _ in resyncs}

        import rag
        from rag.answer import answer
        from rag.config import default_model
        from rag.embedding import get_embedder

        query_cache = get_embedder(default_model()).encode_query

        index = f"{tmp}/index0"
        rag.search(questions[0], index=index)
        answer(questions[0], index=index)
        search_ms, answer_ms = [], []
        for _ in range(3):
            query_cache.cache_clear()  # time the query encoding too, not a cache hit
            for question in questions:
                started = time.perf_counter()
                rag.search(question, k=5, index=index)
                search_ms.append((time.perf_counter() - started) * 1000)
        query_cache.cache_clear()
        for question in questions:
            started = time.perf_counter()
            answer(question, index=index)
            answer_ms.append((time.perf_counter() - started) * 1000)

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]

    print(f"default corpus: {build['chunks']:.0f} passages; medians of 3 cold builds, 5 re-syncs")
    print(f"cold build, process start -> index written   {build['process']:.2f} s")
    print(f"  import sentence_transformers (+torch)      {build['imports']:.2f} s")
    print(f"  model load                                  {build['model load'] - build['imports']:.2f} s")
    print(f"  read + chunk                                {build['encoding starts'] - build['model load']:.2f} s")
    print(f"  encoding                                    {build['encoding'] - build['encoding starts']:.2f} s")
    print(f"  writing                                     {build['written'] - build['encoding']:.2f} s")
    print(f"  peak memory (build process)                 {build['peak MB']:.0f} MB")
    print(f"unchanged re-sync: sync() call                {resync_call * 1000:.0f} ms")
    print(f"unchanged re-sync: whole process              {resync_process * 1000:.0f} ms  (changed, torch imported: {sorted(resync_flags)})")
    print(f"warm search()  over {len(questions)} questions x3   p50 {statistics.median(search_ms):.1f} ms, p95 {pct(search_ms, 0.95):.1f} ms")
    print(f"warm answer()  over {len(questions)} questions      p50 {statistics.median(answer_ms):.1f} ms, p95 {pct(answer_ms, 0.95):.1f} ms")
    print(f"peak memory (search process)                  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
