"""Properties of the package as a whole: cheap import, no network."""

import os
import subprocess
import sys
import textwrap

from tests.conftest import CORPUS


def run_python(code: str, **env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_rag_loads_no_heavy_library():
    out = run_python("""
        import sys, rag
        print(sorted(m for m in ("torch", "faiss", "gradio", "sentence_transformers", "transformers") if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_index_and_search_work_with_the_network_cut_off(tmp_path):
    out = run_python(f"""
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        import rag
        rag.sync([{str(CORPUS)!r}], {str(tmp_path / "index")!r})
        print(rag.search("who granted Assad asylum?", index={str(tmp_path / "index")!r})[0].date)
    """, HF_HUB_OFFLINE="1")
    assert out.strip() == "2024-12-09"
