"""Indexing on a local Ray against the single-process path, on the same files and model.

    .venv/bin/python scripts/bench_ray.py                    # 2,000 passages, MiniLM, spaCy
    .venv/bin/python scripts/bench_ray.py --passages 500 --model hash --tagger rules

Each run is a fresh process that builds a new index of the folder (``sync(..., rebuild=True)``),
so the times include what a user waits for: loading the model, and for Ray starting it and
its workers. Ray runs with 1 worker, then with one per core, so the gain of an added worker
can be read off. Runs alternate (single, Ray 1, Ray N, single, ...) so that a machine shared
with other work is shared evenly between them; medians are reported, with the load average.
The corpus is bench_scale.py's generated text.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "scripts"))

from bench_scale import generate, load  # noqa: E402

CHILD = """
import json, sys, time
started = time.perf_counter()
import rag
folder, index, model, tagger, workers = sys.argv[1:6]
ray = None
if workers != "0":
    from rag import cluster
    cluster.start("local", cpus=int(workers))
    ray = "local"
report = rag.sync([folder], index, model=model, tagger=tagger, rebuild=True, ray=ray)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "passages": report.chunks_added, "embedded": report.chunks_embedded}))
"""


def run(folder: Path, model: str, tagger: str, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder), str(Path(scratch) / "index"), model, tagger, str(workers)],
            capture_output=True, text=True, cwd=PROJECT,
        )
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--tagger", default="spacy")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=PROJECT / ".cache" / "bench-ray")
    args = parser.parse_args()
    folder = generate(args.workdir / f"corpus-{args.passages}", args.passages)
    cores = os.cpu_count() or 1
    modes = {"single process": 0, "local Ray, 1 worker": 1, f"local Ray, {cores} workers": cores}
    times: dict[str, list[float]] = {name: [] for name in modes}
    print(f"{args.passages:,} passages, model {args.model}, tagger {args.tagger}; {load()}")
    for round_ in range(args.repeat):
        for name, workers in modes.items():
            result = run(folder, args.model, args.tagger, workers)
            times[name].append(result["seconds"])
            print(f"  round {round_ + 1}  {name:22s} {result['seconds']:7.1f} s   "
                  f"{result['embedded'] / result['seconds']:6.1f} passages/s   [{load()}]", flush=True)
    single = statistics.median(times["single process"])
    print("median of each:")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:22s} {median:7.1f} s   {args.passages / median:6.1f} passages/s   "
              f"{median / single:4.2f}x the single process")
    one, many = (statistics.median(times[n]) for n in list(modes)[1:])
    if cores > 1:
        per_worker = (args.passages / many - args.passages / one) / (cores - 1)
        print(f"  gain per added worker (from 1 to {cores}): {per_worker:+.1f} passages/s")


if __name__ == "__main__":
    main()
