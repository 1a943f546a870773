"""Storage at scale: generated corpora of 100,000 and 1,000,000 passages, indexed with the
``hash`` stand-in model, so that only storage is timed (embedding is reported apart).

    .venv/bin/python scripts/bench_scale.py                        # 100,000 passages
    .venv/bin/python scripts/bench_scale.py --passages 1000000
    .venv/bin/python scripts/bench_scale.py --curve                # recall@10 and latency per nprobe
    .venv/bin/python scripts/bench_scale.py --embedding            # real-model passages/s only
    .venv/bin/python scripts/bench_scale.py --passages 1000000 --resync-only   # re-syncs of a --keep index

Reports: build time (and the build's peak memory), one-file re-sync (the ``sync()`` call,
median and worst of several, each after changing one word of one file; and one whole
process), fresh process to first hit, warm ``search()`` p50/p95 without query encoding
(queries are encoded once, then served from the encoder's cache), recall@10 of the dense
search against exact search, disk size, and the peak memory of a process that opens the
index and searches. Everything a user waits for in a new process is timed in a new
process. Timings are medians unless said; the machine is shared, so the load average is
printed beside them.

The corpus (``--workdir``, default ``.cache/bench-scale/``) is generated once per size and
reused: files of 100 paragraphs (passages) of 40–90 words, each file under one date line,
words drawn from 300 topics of a synthetic 30,000-word vocabulary (Zipf-distributed),
mixed with English function words. Queries are 3–7 words of one topic.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

GENERATOR = 2  # bump when the generated text changes: cached corpora are made again
PER_FILE = 100
TOPICS = 300
VOCABULARY = 30_000
FUNCTION_WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her all she there would their we him been has when who will more no if out so said what up"
).split()
MONTHS = "January February March April May June July August September October November December".split()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the corpus ------------------------------------------------------------------------------


class Language:
    """A synthetic language: a Zipfian vocabulary and topics over it."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["qu" + v for v in "aei"]
        lengths = rng.integers(2, 5, size=3 * VOCABULARY)
        picks = rng.integers(len(syllables), size=(3 * VOCABULARY, 4))
        candidates = ("".join(syllables[i] for i in row[:n]) for row, n in zip(picks.tolist(), lengths.tolist()))
        self.words = np.array(list(dict.fromkeys(candidates))[:VOCABULARY], dtype=object)
        zipf = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
        self.global_cdf = np.cumsum(zipf / zipf.sum())
        # Each topic favours 500 words of the vocabulary, themselves Zipf-distributed.
        self.topics = [rng.choice(VOCABULARY, 500, replace=False, p=zipf / zipf.sum()) for _ in range(TOPICS)]
        local = 1.0 / np.arange(1, 501) ** 0.9
        self.topic_cdf = np.cumsum(local / local.sum())
        self.function_words = np.array(FUNCTION_WORDS, dtype=object)

    def words_of(self, rng, topic: int, count: int) -> np.ndarray:
        """``count`` words: about a third function words, half the topic's, the rest any."""
        kind = rng.random(count)
        draw = rng.random(count)
        topical = self.topics[topic][np.minimum(np.searchsorted(self.topic_cdf, draw), 499)]
        other = np.minimum(np.searchsorted(self.global_cdf, draw), VOCABULARY - 1)
        out = np.where(kind < 0.83, self.words[topical], self.words[other])
        function = kind < 0.33
        out[function] = self.function_words[(draw[function] * len(FUNCTION_WORDS)).astype(int)]
        return out

    def paragraphs(self, rng, topic: int, count: int) -> list[str]:
        """``count`` paragraphs of 40–90 words in sentences of 8–20."""
        sizes = rng.integers(40, 91, size=count)
        words = self.words_of(rng, topic, int(sizes.sum())).tolist()
        ends = rng.integers(8, 21, size=(count, 12)).cumsum(axis=1).tolist()
        paragraphs, start = [], 0
        for size, cuts in zip(sizes.tolist(), ends):
            own = words[start : start + size]
            start += size
            sentences, first = [], 0
            for cut in cuts + [size]:
                if first >= size:
                    break
                sentence = " ".join(own[first : min(cut, size)])
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
                first = cut
            paragraphs.append(" ".join(sentences))
        return paragraphs

    def paragraph(self, rng, topic: int) -> str:
        return self.paragraphs(rng, topic, 1)[0]

    def query(self, rng) -> str:
        topic = int(rng.integers(TOPICS))
        picks = np.searchsorted(self.topic_cdf, rng.random(int(rng.integers(3, 8))))
        return " ".join(self.words[self.topics[topic][np.minimum(picks, 499)]])


def generate(folder: Path, passages: int, seed: int = 0) -> Path:
    """Write the corpus once; a folder with a complete ``.done`` marker of this size is reused."""
    marker = folder / ".done"
    if marker.exists() and marker.read_text() == f"{passages} {seed} {GENERATOR}":
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    language, rng = Language(seed), np.random.default_rng(seed + 1)
    for number in range(-(-passages // PER_FILE)):
        topic = int(rng.integers(TOPICS))
        count = min(PER_FILE, passages - number * PER_FILE)
        date = f"{int(rng.integers(1, 29)):02d} {MONTHS[int(rng.integers(12))]} 2024"
        body = "\n\n".join(language.paragraphs(rng, topic, count))
        shard = folder / f"{number // 1000:03d}"
        shard.mkdir(exist_ok=True)
        (shard / f"doc-{number:06d}.txt").write_text(f"{date}\n\n{body}\n", encoding="utf-8")
    marker.write_text(f"{passages} {seed} {GENERATOR}")
    return folder


def queries(count: int, seed: int = 7) -> list[str]:
    language, rng = Language(0), np.random.default_rng(seed)
    return [language.query(rng) for _ in range(count)]


# -- children (each a fresh process) -----------------------------------------------------------


def child_build(corpus: str, index: str) -> dict:
    started = time.perf_counter()
    import rag

    report = rag.sync([corpus], index, model="hash", tagger="rules")
    from rag.store import read_manifest

    manifest = read_manifest(Path(index))
    return {"seconds": time.perf_counter() - started, "passages": report.chunks_added, "peak MB": peak_mb(),
            "segments": [s.passages for s in manifest.segments]}


def child_resync(corpus: str, index: str, rounds: int) -> dict:
    """Change one word of one file, ``rounds`` times (a different file each time), timing ``sync()``."""
    import rag
    from rag.store import read_manifest

    files = sorted(Path(corpus).rglob("doc-*.txt"))
    rng = np.random.default_rng(11)
    times, merges = [], []
    for number in range(rounds):
        file = files[int(rng.integers(len(files)))]
        text = file.read_text(encoding="utf-8")
        file.write_text(text.rstrip("\n") + f" Changed{number}.\n", encoding="utf-8")
        before = len(read_manifest(Path(index)).segments)
        started = time.perf_counter()
        report = rag.sync([corpus], index)
        times.append(time.perf_counter() - started)
        assert report.updated == (str(file.relative_to(corpus)),), report
        after = len(read_manifest(Path(index)).segments)
        merges.append(after <= before)
    return {"seconds": times, "merged": merges, "segments": [s.passages for s in read_manifest(Path(index)).segments]}


def child_first_hit(index: str, query: str) -> dict:
    started = time.perf_counter()
    import rag

    marks = {"import rag": time.perf_counter() - started}
    from rag.search import open_index

    store = open_index(index)
    marks["open index"] = time.perf_counter() - started
    hits = rag.search(query, index=index)
    marks["first hit"] = time.perf_counter() - started
    marks["hits"] = len(hits)
    return marks


def child_search(index: str, count: int, curve: bool) -> dict:
    """Warm search timings, recall@10 against exact search, and this process's peak memory."""
    import rag
    from rag import vectors as vector_index
    from rag.embedding import get_embedder
    from rag.search import open_index

    store = open_index(index)
    asked = queries(count)
    for query in asked:  # warm: queries encoded (then cached), pages of the index touched
        rag.search(query, index=index)
    latencies = []
    for query in asked:
        started = time.perf_counter()
        rag.search(query, index=index)
        latencies.append((time.perf_counter() - started) * 1000)
    result = {"p50 ms": float(np.percentile(latencies, 50)), "p95 ms": float(np.percentile(latencies, 95))}
    result["peak MB (searching)"] = peak_mb()

    encoder = get_embedder(store.model)
    vectors = np.concatenate([encoder.encode_query(q) for q in asked])
    tenth = _exact_tenth_scores(store, vectors)
    approximate = [store.dense_ranked(v, 10, store.live).scores for v in vectors]
    result["recall@10"] = _recall(approximate, tenth)
    result["ivf segments"] = sum(vector_index.kind(s.vectors) == "ivf" for s in store.segments)
    if curve:
        result["curve"] = []
        for probes in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024):
            found, times = [], []
            for vector in vectors:
                started = time.perf_counter()
                found.append(_dense_with(store, vector, probes))
                times.append((time.perf_counter() - started) * 1000)
            recall = _recall(found, tenth)
            result["curve"].append((probes, recall, float(np.percentile(times, 50)), float(np.percentile(times, 95))))
    return result


def _recall(found: list[np.ndarray], tenth: np.ndarray) -> float:
    """Share of the true top 10 found: a hit counts when it scores at least the exact 10th
    score (IVF keeps vectors whole, so its scores are exact), so that passages tied at the
    10th place count whichever of them is returned."""
    return float(np.mean([min(10, int(np.sum(s >= t - 1e-6))) / 10 for s, t in zip(found, tenth)]))


def _dense_with(store, vector, probes: int) -> np.ndarray:
    from rag import vectors as vector_index

    found = [vector_index.search(s.vectors, vector, 10, m, probes) for s, m in zip(store.segments, store.live)]
    return store.corpus_order(found)[:10].scores


def _exact_tenth_scores(store, vectors: np.ndarray) -> np.ndarray:
    """The exact 10th-best score of each query: brute force over every live vector."""
    best = np.full((len(vectors), 10), -np.inf, dtype="float32")
    for segment, live in zip(store.segments, store.live):
        positions = np.arange(segment.size) if live is None else np.flatnonzero(live)
        for first in range(0, len(positions), 100_000):
            scores = vectors @ segment.vectors_at(positions[first : first + 100_000]).T
            best = -np.sort(-np.concatenate([best, scores], axis=1), axis=1)[:, :10]
    return best[:, 9]


def child_embedding(count: int) -> dict:
    """Passages a second for the real model (sentence-transformers, the index-time encoder)."""
    from rag.config import DEFAULT_MODEL
    from rag.embedding import get_document_embedder

    language, rng = Language(0), np.random.default_rng(3)
    texts = [language.paragraph(rng, int(rng.integers(TOPICS))) for _ in range(count)]
    embedder = get_document_embedder(DEFAULT_MODEL)
    embedder.encode_documents(texts[:64])  # load and warm
    started = time.perf_counter()
    for first in range(0, len(texts), 64):
        embedder.encode_documents(texts[first : first + 64])
    seconds = time.perf_counter() - started
    import torch

    return {"passages": count, "seconds": seconds, "passages/s": count / seconds, "torch threads": torch.get_num_threads()}


CHILDREN = {"build": child_build, "resync": child_resync, "first-hit": child_first_hit, "search": child_search,
            "embedding": child_embedding}


def run_child(name: str, *args) -> tuple[dict, float]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "_child", name, *map(str, args)], capture_output=True, text=True,
        env={**os.environ, "RAG_CACHE": os.environ.get("RAG_CACHE", str(PROJECT / ".cache" / "rag"))},
    )
    wall = time.perf_counter() - started
    if out.returncode:
        sys.exit(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# -- the report ------------------------------------------------------------------------------


def bench(passages: int, workdir: Path, rounds: int, curve: bool, keep: bool, resync_only: bool = False) -> None:
    print(f"== {passages:,} passages; {load()}")
    started = time.perf_counter()
    corpus = generate(workdir / f"corpus-{passages}", passages)
    print(f"corpus: {sum(1 for _ in corpus.rglob('doc-*.txt')):,} files, {du(corpus) / 1e6:,.0f} MB "
          f"(generated or reused in {time.perf_counter() - started:.1f} s)")
    index = workdir / f"index-{passages}"
    if resync_only:
        if not (index / "CURRENT").is_file():
            sys.exit(f"no kept index at {index}; build one first: --passages {passages} --keep")
        print(f"reusing the index kept at {index} ({du(index) / 1e6:,.0f} MB)")
    else:
        shutil.rmtree(index, ignore_errors=True)
        build, wall = run_child("build", corpus, index)
        print(f"build (new process, sync of the folder)    {wall:8.1f} s   peak {build['peak MB']:,.0f} MB   "
              f"{build['passages']:,} passages in segments of {build['segments']}   [{load()}]")
        print(f"index on disk                               {du(index) / 1e6:8,.0f} MB")

    resync, _ = run_child("resync", corpus, index, rounds)
    seconds = resync["seconds"]
    print(f"one-file re-sync, sync() call               p50 {statistics.median(seconds):.3f} s, "
          f"max {max(seconds):.3f} s over {rounds} ({sum(resync['merged'])} with a merge); "
          f"segments after: {resync['segments']}   [{load()}]")
    file = sorted(corpus.rglob("doc-*.txt"))[0]
    file.write_text(file.read_text(encoding="utf-8").rstrip("\n") + " Once more.\n", encoding="utf-8")
    code = "import sys, rag; rag.sync([sys.argv[1]], sys.argv[2])"
    walls = []
    for _ in range(3):
        file.write_text(file.read_text(encoding="utf-8") + " Again.", encoding="utf-8")
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(corpus), str(index)], check=True)
        walls.append(time.perf_counter() - begin)
    print(f"one-file re-sync, whole `python` process    {statistics.median(walls):8.3f} s (median of 3)")
    if resync_only:
        return

    first = [run_child("first-hit", index, queries(1)[0]) for _ in range(5)]
    marks = {k: statistics.median(m[k] for m, _ in first) for k in ("import rag", "open index", "first hit")}
    print(f"fresh process -> first hit                  {statistics.median(w for _, w in first):8.3f} s (median of 5; "
          f"in the process: import rag {marks['import rag']:.2f}, opened {marks['open index']:.2f}, "
          f"first hit {marks['first hit']:.2f})   [{load()}]")

    found, _ = run_child("search", index, 200, int(curve))
    print(f"warm search() over 200 queries              p50 {found['p50 ms']:.1f} ms, p95 {found['p95 ms']:.1f} ms   "
          f"[{load()}]")
    print(f"recall@10 of dense search vs exact          {found['recall@10']:.4f} ({found['ivf segments']} IVF segments)")
    print(f"peak memory, a process searching            {found['peak MB (searching)']:,.0f} MB")
    print(f"index on disk after the re-syncs            {du(index) / 1e6:8,.0f} MB")
    if curve:
        print("nprobe  recall@10  dense p50 ms  p95 ms")
        for probes, recall, p50, p95 in found["curve"]:
            print(f"{probes:6d}  {recall:9.4f}  {p50:12.2f}  {p95:6.2f}")
    if not keep:
        shutil.rmtree(index, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        name, args = sys.argv[2], sys.argv[3:]
        function = CHILDREN[name]
        kinds = function.__code__.co_varnames[: function.__code__.co_argcount]
        values = [int(a) if k in ("rounds", "count", "curve") else a for k, a in zip(kinds, args)]
        print(json.dumps(function(*values)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, nargs="+", default=[100_000])
    parser.add_argument("--workdir", type=Path, default=PROJECT / ".cache" / "bench-scale")
    parser.add_argument("--rounds", type=int, default=10, help="one-file re-syncs to time")
    parser.add_argument("--curve", action="store_true", help="recall and latency for each nprobe")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    parser.add_argument("--embedding", action="store_true", help="only the real model's passages/s")
    parser.add_argument("--resync-only", action="store_true",
                        help="only the re-syncs, on the index an earlier --keep run left (nothing is built)")
    args = parser.parse_args()
    if args.embedding:
        result, _ = run_child("embedding", 2000)
        print(f"real-model embedding (all-MiniLM-L6-v2, sentence-transformers, CPU): {result['passages/s']:.1f} "
              f"passages/s ({result['passages']} passages in {result['seconds']:.1f} s, "
              f"{result['torch threads']} torch threads)   [{load()}]")
        return
    for passages in args.passages:
        bench(passages, args.workdir, args.rounds, args.curve, args.keep, args.resync_only)


if __name__ == "__main__":
    main()
