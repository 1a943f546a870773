"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests.

Each request takes the next step of its script (the last one repeats): a reply the
server sends as one JSON completion, or as server-sent events when the request asks
for a stream; an HTTP error; garbage; a delay; a dropped connection. Every request body
is recorded, so tests can check what was sent (and that it was sent here only).

    with ScriptedServer([Reply("Putin granted asylum [1].")]) as server:
        LLMServer(server.url, "test-model")
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """A chat completion holding ``text``; streamed in ``pieces`` (words) when asked for a stream."""

    text: str
    delay: float = 0.0  # before the reply starts
    piece_delay: float = 0.0  # between streamed pieces


@dataclass(frozen=True)
class Status:
    """An HTTP error with ``body``."""

    code: int
    body: str = '{"error": {"message": "model not found"}}'


@dataclass(frozen=True)
class Raw:
    """``body`` sent as it is with status 200 and ``content_type``."""

    body: str
    content_type: str = "application/json"


@dataclass(frozen=True)
class Drop:
    """The connection closed without a reply."""


Step = Reply | Status | Raw | Drop


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        server: ScriptedServer = self.server.scripted  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        step = server.next_step()
        if isinstance(step, Drop):
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(step, Status):
            self._send(step.code, step.body.encode(), "application/json")
            return
        if isinstance(step, Raw):
            self._send(200, step.body.encode(), step.content_type)
            return
        time.sleep(step.delay)
        if body.get("stream"):
            self._stream(step)
        else:
            reply = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": step.text},
                                  "finish_reason": "stop"}]}
            self._send(200, json.dumps(reply).encode(), "application/json")

    def _send(self, code: int, data: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, step: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        first = {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}
        self.wfile.write(f"data: {json.dumps(first)}\n\n".encode())
        for piece in _pieces(step.text):
            chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(step.piece_delay)
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()
        self.close_connection = True


class ScriptedServer:
    """Serves the steps of ``script`` in order on a free loopback port; use as a context manager."""

    def __init__(self, script: list[Step]) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._http.daemon_threads = True
        self._http.scripted = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def next_step(self) -> Step:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
