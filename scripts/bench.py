"""Speed of the default corpus on this machine: build, re-sync, fresh and warm queries, the app.

    .venv/bin/python scripts/bench.py            # or: make bench
    .venv/bin/python scripts/bench.py --quick    # skip the cold builds and the app
    .venv/bin/python scripts/bench.py --memory 5000   # only: server RSS over 5,000 /ask requests

Everything a user waits for in a new process is timed in a new process, from
interpreter start. Timings are medians; the machine is noisy (the load average is
printed with the figures). The ONNX query encoder is exported into a temporary
$RAG_CACHE by the first build, so its cost is measured too.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
RAG = str(Path(sys.executable).parent / "rag")
QUESTION = "who granted Assad asylum?"

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
    now = time.perf_counter() - started
    if message.startswith("embedding") and "encoding starts" not in marks:
        marks["encoding starts"] = now
    if message == "writing the index":
        marks["encoding"] = now
    if message == "preparing the query encoder":
        marks["written"] = now
report = rag.sync([sys.argv[1]], sys.argv[2], progress=progress)
marks["done"] = time.perf_counter() - started
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

FIRST_HIT = """
import time
started = time.perf_counter()
import json, sys
import rag
marks = {"import rag": time.perf_counter() - started}
from rag.search import open_index
from rag.embedding import get_embedder
store = open_index(sys.argv[1])
marks["open index"] = time.perf_counter() - started
get_embedder(store.manifest.model)
marks["load encoder"] = time.perf_counter() - started
hit = rag.search(sys.argv[2], index=sys.argv[1])[0]
marks["first hit"] = time.perf_counter() - started
heavy = [m for m in ("torch", "sentence_transformers", "bm25s", "gradio") if m in sys.modules]
print(json.dumps({**marks, "heavy": heavy, "date": hit.date}))
"""

# The way a script searches: the index opens while the query encoder's session is built
# (rag.search.open_for_query), which FIRST_HIT's step-by-step timing can't show.
FIRST_HIT_AS_USED = """
import sys
import rag
rag.search(sys.argv[2], index=sys.argv[1])
print("torch" in sys.modules)
"""

SEARCH_MEMORY = """
import json, resource, sys
import rag
questions = json.loads(sys.argv[2])
for question in questions:
    rag.search(question, index=sys.argv[1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch" in sys.modules)
"""


def run(code: str, *args: str, env=None) -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env
    ).stdout
    return out, time.perf_counter() - start


def wall(command: list[str], env=None) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return time.perf_counter() - start, out


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(port: int, api: str, data: list) -> str:
    """One call of a named Gradio endpoint over plain HTTP (its /gradio_api/call route)."""
    base = f"http://127.0.0.1:{port}/gradio_api/call/{api}"
    request = urllib.request.Request(base, json.dumps({"data": data}).encode(), {"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(request, timeout=60).read())["event_id"]
    return urllib.request.urlopen(f"{base}/{event}", timeout=60).read().decode()


def _wait_for_page(server: subprocess.Popen, port: int) -> None:
    """Poll until ``rag serve`` serves its page (every 20 ms, so the timing stays fine-grained)."""
    while True:
        if server.poll() is not None:
            raise RuntimeError("rag serve exited")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.02)


def serve_ready(index: str, env) -> tuple[float, float]:
    """Seconds from `rag serve` starting to (its page answering, its first answer received)."""
    port = _free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [RAG, "serve", "--port", str(port), "--index", index], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_page(server, port)
        listening = time.perf_counter() - started
        answer = _call(port, "ask", [QUESTION, 5, "", "", None, ""])  # every argument: plain HTTP fills no defaults
        assert "Putin" in answer, answer
        return listening, time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def _rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` now (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _nonsense_word(number: int) -> str:
    """A lowercase word made of ``number`` in base 26: makes each question unique, matching nothing."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[digit]
        if not number:
            return "zq" + letters


def serve_memory(index: str | None, requests: int, clients: int, checkpoints: list[int]) -> None:
    """`rag serve` over the default corpus, ``requests`` /ask calls from ``clients`` threads; RSS as it goes.

    Every question is a dev-set question with a nonsense word added, so no cache keyed
    by the question hides growth. RSS is read from /proc after each checkpoint, once
    the calls before it have all been answered.
    """
    import concurrent.futures
    import threading

    from rag.evaluation import load_devset

    questions = [q.question for q in load_devset(PROJECT / "eval" / "devset.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        if index is None:
            index = f"{tmp}/index"
            print(f"building an index of the default corpus in {index}…", flush=True)
            subprocess.run([RAG, "index", str(PROJECT / "corpus"), "--index", index], check=True,
                           stdout=subprocess.DEVNULL)
        port = _free_port()
        server = subprocess.Popen([RAG, "serve", "--port", str(port), "--index", index],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_page(server, port)
            print(f"rag serve (pid {server.pid}) ready: {_rss_mb(server.pid):.0f} MB", flush=True)
            errors, lock = [], threading.Lock()

            def ask(number: int) -> None:
                question = f"{questions[number % len(questions)]} {_nonsense_word(number)}"
                reply = _call(port, "ask", [question, 5, "", "", None, ""])
                if "event: complete" not in reply:
                    with lock:
                        errors.append(reply[-300:])

            done, started = 0, time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                for checkpoint in sorted(set(checkpoints + [requests])):
                    list(pool.map(ask, range(done, checkpoint)))
                    done = checkpoint
                    rate = done / (time.perf_counter() - started)
                    print(f"after {done:>6,} /ask requests: RSS {_rss_mb(server.pid):7.0f} MB  "
                          f"({rate:.0f} requests/s, {len(errors)} errors)", flush=True)
            if errors:
                print("first error:", errors[0])
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one build, no app")
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure (default 7)")
    parser.add_argument("--memory", type=int, metavar="N",
                        help="only the server's memory: RSS of `rag serve` over N /ask requests")
    parser.add_argument("--clients", type=int, default=8, help="simultaneous clients for --memory (default 8)")
    parser.add_argument("--index", help="for --memory: an index of the default corpus (default: build one)")
    args = parser.parse_args()
    if args.memory:
        checkpoints = [n for n in (100, 500, 1000, 2000, 3000, 4000) if n < args.memory]
        serve_memory(args.index, args.memory, args.clients, checkpoints)
        return

    from rag.evaluation import load_devset

    corpus = str(PROJECT / "corpus")
    questions = [q.question for q in load_devset(PROJECT / "eval" / "devset.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RAG_CACHE": f"{tmp}/cache"}
        os.environ["RAG_CACHE"] = env["RAG_CACHE"]
        builds = []
        for attempt in range(1 if args.quick else 3):
            out, seconds = run(BUILD, corpus, f"{tmp}/index{attempt}", env=env)
            marks = json.loads(out)
            marks["process"] = seconds
            builds.append(marks)
        export = builds[0]["done"] - builds[0]["written"]  # only the first build exports
        for marks in builds:
            marks["process"] -= marks["done"] - marks["written"]
        build = {key: statistics.median(b[key] for b in builds) for key in builds[0]}
        index = f"{tmp}/index0"
        resyncs = [run(RESYNC, corpus, index, env=env) for _ in range(5)]
        resync_call = statistics.median(float(out.split()[0]) for out, _ in resyncs)
        resync_process = statistics.median(seconds for _, seconds in resyncs)
        resync_flags = {tuple(out.split()[1:]) for out, _ in resyncs}

        firsts, as_used = [], []
        for _ in range(args.runs):
            out, seconds = run(FIRST_HIT, index, QUESTION, env=env)
            firsts.append({**json.loads(out), "process": seconds})
            out, seconds = run(FIRST_HIT_AS_USED, index, QUESTION, env=env)
            assert out.split() == ["False"], out  # torch never imported on the query path
            as_used.append(seconds)
        first = {key: statistics.median(f[key] for f in firsts) for key in ("import rag", "open index", "load encoder", "first hit", "process")}
        first_heavy = sorted({m for f in firsts for m in f["heavy"]})
        asks = [wall([RAG, "ask", QUESTION, "--index", index], env=env) for _ in range(args.runs)]
        assert all("Putin" in out for _, out in asks), asks[0][1]
        ask = statistics.median(seconds for seconds, _ in asks)
        memory_out, _ = run(SEARCH_MEMORY, index, json.dumps(questions), env=env)
        search_mb, search_torch = memory_out.split()

        import rag
        from rag.answering import answer
        from rag.embedding import get_embedder
        from rag.search import open_index

        embedder = get_embedder(open_index(index).manifest.model)
        rag.search(questions[0], index=index)
        answer(questions[0], index=index)
        search_ms, answer_ms = [], []
        for _ in range(3):
            embedder.encode_query.cache_clear()  # time the query encoding too, not a cache hit
            for question in questions:
                started = time.perf_counter()
                rag.search(question, k=5, index=index)
                search_ms.append((time.perf_counter() - started) * 1000)
        embedder.encode_query.cache_clear()
        for question in questions:
            started = time.perf_counter()
            answer(question, index=index)
            answer_ms.append((time.perf_counter() - started) * 1000)
        # The same questions again, each question's encoding timed as before: what is left
        # is what an answer costs once its passages' sentences have been met (and encoded)
        # by this process, as in an app that has answered a few questions about them.
        embedder.encode_query.cache_clear()
        again_ms = []
        for question in questions:
            started = time.perf_counter()
            answer(question, index=index)
            again_ms.append((time.perf_counter() - started) * 1000)
        serves = [] if args.quick else [serve_ready(index, env) for _ in range(3)]
        gradio_import = [] if args.quick else [wall([sys.executable, "-c", "import gradio"], env)[0] for _ in range(3)]

    load = os.getloadavg()[0]
    print(f"default corpus: {build['chunks']:.0f} passages; {type(embedder).__name__} for queries; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    print(f"cold build, process start -> index written   {build['process']:.2f} s  (median of {len(builds)})")
    print(f"  import sentence_transformers (+torch)      {build['imports']:.2f} s")
    print(f"  model load                                  {build['model load'] - build['imports']:.2f} s")
    print(f"  read + chunk                                {build['encoding starts'] - build['model load']:.2f} s")
    print(f"  encoding                                    {build['encoding'] - build['encoding starts']:.2f} s")
    print(f"  writing (vectors, chunks, BM25)             {build['written'] - build['encoding']:.2f} s")
    print(f"  peak memory (build process)                 {build['peak MB']:.0f} MB")
    print(f"ONNX export of the query encoder (once)       {export:.2f} s")
    print(f"unchanged re-sync: sync() call                {resync_call * 1000:.0f} ms")
    print(f"unchanged re-sync: whole process              {resync_process * 1000:.0f} ms  (changed, torch imported: {sorted(resync_flags)})")
    print(f"fresh process -> first hit                    {statistics.median(as_used):.2f} s  (median of {args.runs}; `import rag; rag.search(...)`)")
    print(f"  step by step, each waiting for the last     {first['process']:.2f} s  (median of {args.runs}; torch etc. imported: {first_heavy})")
    print(f"  import rag                                  {first['import rag']:.2f} s")
    print(f"  open index (faiss, chunks, BM25)            {first['open index'] - first['import rag']:.2f} s")
    print(f"  load query encoder (onnxruntime)            {first['load encoder'] - first['open index']:.2f} s")
    print(f"  first search()                              {first['first hit'] - first['load encoder']:.2f} s")
    print(f"fresh `rag ask` -> answer printed             {ask:.2f} s  (median of {args.runs})")
    print(f"warm search()  over {len(questions)} questions x3   p50 {statistics.median(search_ms):.1f} ms, p95 {pct(search_ms, 0.95):.1f} ms")
    print(f"warm answer()  over {len(questions)} questions      p50 {statistics.median(answer_ms):.1f} ms, p95 {pct(answer_ms, 0.95):.1f} ms")
    print(f"  the same questions again (sentences met)   p50 {statistics.median(again_ms):.1f} ms, p95 {pct(again_ms, 0.95):.1f} ms")
    print(f"peak memory, process searching {len(questions)} questions  {float(search_mb):.0f} MB  (torch imported: {search_torch})")
    if serves:
        print(f"`rag serve` -> page served                    {statistics.median(s for s, _ in serves):.2f} s  (median of {len(serves)})")
        print(f"`rag serve` -> first /ask answered            {statistics.median(a for _, a in serves):.2f} s")
        print(f"  of which a bare `import gradio` process     {statistics.median(gradio_import):.2f} s")


if __name__ == "__main__":
    main()
