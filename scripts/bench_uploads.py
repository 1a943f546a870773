"""How long a small upload takes while a big one is indexing, in the real app (issue 12).

Builds an index of the default corpus with the real model in a temporary folder, starts the
app on it, uploads a generated text of 1,500 paragraphs (about 1,500 passages) through
``/add_documents``, and 5 s later a one-line file; prints how long each took.

    .venv/bin/python scripts/bench_uploads.py
"""

import argparse
import random
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=1500, help="in the big upload")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds between the two uploads")
    args = parser.parse_args()

    from gradio_client import Client, handle_file

    from rag import sync
    from ui.app import build_demo

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        sync([PROJECT / "corpus"], work / "index")
        demo = build_demo(work / "index")
        _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        try:
            client = Client(url, verbose=False)
            client.predict("who granted Assad asylum?", api_name="/ask")  # the query encoder, loaded
            words = " ".join(p.read_text() for p in (PROJECT / "corpus").glob("*.txt")).split()
            rng = random.Random(0)
            big, small = work / "in" / "big.txt", work / "in" / "small.txt"
            big.parent.mkdir()
            big.write_text("\n\n".join(" ".join(rng.choice(words) for _ in range(60)) for _ in range(args.paragraphs)))
            small.write_text("The Quokka ferry sails at dawn on 4 May 2022.\n")
            started = time.monotonic()
            job = client.submit([handle_file(str(big))], api_name="/add_documents")
            time.sleep(args.delay)
            small_started = time.monotonic()
            outcome = client.predict([handle_file(str(small))], api_name="/add_documents")
            small_took = time.monotonic() - small_started
            found = client.predict("Quokka ferry", 1, api_name="/search")[0]["source"]
            big_outcome = job.result(timeout=3600)
            big_took = time.monotonic() - started
        finally:
            demo.close()
    print(f"big upload ({args.paragraphs:,} paragraphs): {big_took:.1f} s, {big_outcome['files'][0]['status']}")
    print(f"small upload made {args.delay:g} s into it: {small_took:.1f} s, {outcome['files'][0]['status']}, "
          f"then searchable: {found == 'small.txt'}")


if __name__ == "__main__":
    main()
