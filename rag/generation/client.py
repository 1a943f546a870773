"""The OpenAI chat-completions protocol over plain httpx: one request, streamed or not.

Only the configured URL is contacted: proxies from the environment are ignored
(``trust_env=False``, so $HTTP_PROXY can't route the passages elsewhere) and redirects
are not followed. Everything that can go wrong (the server is down, slow, answers an
error, or sends something that isn't a chat completion) is an ``LLMError`` with one
line saying what happened.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from rag.errors import RagError
from rag.generation.settings import LLMServer

# Connecting to a server on this machine or the local network takes milliseconds; a
# server that doesn't accept within this is not there.
CONNECT_TIMEOUT = 5.0
_SHOWN = 160  # characters of a bad reply quoted in the message
# A chat answer is a few kilobytes; a server sending more than this is not answering.
MAX_REPLY_BYTES = 2_000_000


class LLMError(RagError):
    """The language model server could not give an answer; ``str()`` says why, in one line."""


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _http_error(server: LLMServer, status: int, body: str) -> LLMError:
    detail = body
    try:
        data = json.loads(body)
        error = data.get("error", data) if isinstance(data, dict) else data
        detail = error.get("message", error) if isinstance(error, dict) else error
    except ValueError:
        pass
    hint = {
        401: "; check RAG_LLM_API_KEY",
        403: "; check RAG_LLM_API_KEY",
        404: f"; is {server.url} the API base (Ollama: http://127.0.0.1:11434/v1) and {server.model!r} a model it serves?",
    }.get(status, "")
    return LLMError(f"the language model server at {server.url} answered HTTP {status}: {_short(detail)}{hint}")


def _content_of(data, server: LLMServer, key: str) -> str | None:
    """The text of a completion (``key="message"``) or of a stream chunk (``"delta"``); None if it has none."""
    if isinstance(data, dict) and "error" in data:
        error = data["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise LLMError(f"the language model server at {server.url} reported an error: {_short(message)}")
    try:
        choices = data["choices"]
        if not choices:
            return None  # a usage-only chunk
        part = choices[0][key]
        content = part.get("content") if isinstance(part, dict) else None
    except (KeyError, IndexError, TypeError):
        raise LLMError(
            f"the language model server at {server.url} sent something that is not a chat completion: {_short(data)}"
        ) from None
    if content is not None and not isinstance(content, str):
        raise LLMError(f"the language model server at {server.url} sent content that is not text: {_short(content)}")
    return content


def chat(server: LLMServer, messages: list[dict], *, stream: bool = False) -> Iterator[str]:
    """The model's reply to ``messages``, as pieces of text in order (one piece unless ``stream``).

    Raises ``LLMError`` when the server can't be reached, takes longer than
    ``server.timeout`` in all, answers an HTTP error, or sends anything but a chat completion.
    """
    import httpx

    body = {
        "model": server.model,
        "messages": messages,
        "max_tokens": server.max_tokens,
        "temperature": 0,  # the most likely words: an answer, not a variation on it
        "stream": stream,
    }
    headers = {"Accept": "text/event-stream" if stream else "application/json"}
    if server.api_key:
        headers["Authorization"] = f"Bearer {server.api_key}"
    timeout = httpx.Timeout(server.timeout, connect=min(CONNECT_TIMEOUT, server.timeout))
    deadline = time.monotonic() + server.timeout
    try:
        with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            with client.stream("POST", server.chat_url, json=body, headers=headers) as response:
                if response.status_code != 200:
                    raise _http_error(server, response.status_code, response.read().decode("utf-8", "replace"))
                # What the server sends decides how it is read: some send one JSON reply to a
                # request for a stream, or a stream to a request for one reply.
                if "text/event-stream" in response.headers.get("content-type", ""):
                    yield from _events(response, server, deadline)
                else:
                    yield _whole(response, server, deadline)
    except httpx.TimeoutException:
        raise LLMError(f"the language model server at {server.url} did not answer within {server.timeout:g} s") from None
    except httpx.ConnectError as error:
        raise LLMError(f"the language model server at {server.url} can't be reached ({_reason(error)})") from None
    except httpx.HTTPError as error:
        raise LLMError(f"the connection to the language model server at {server.url} failed ({_reason(error)})") from None


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused: is the server running?"
    return _short(text)


def _check_deadline(server: LLMServer, deadline: float) -> None:
    if time.monotonic() > deadline:
        raise LLMError(f"the language model server at {server.url} did not finish within {server.timeout:g} s")


def _too_long(server: LLMServer) -> LLMError:
    return LLMError(f"the language model server at {server.url} sent more than {MAX_REPLY_BYTES:,} bytes")


def _whole(response, server: LLMServer, deadline: float) -> str:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        _check_deadline(server, deadline)
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise _too_long(server)
    raw = b"".join(chunks).decode("utf-8", "replace")
    try:
        data = json.loads(raw)
    except ValueError:
        raise LLMError(
            f"the language model server at {server.url} sent something that is not JSON: {_short(raw) or 'nothing'}"
        ) from None
    content = _content_of(data, server, "message")
    if not content or not content.strip():
        raise LLMError(f"the language model at {server.url} returned an empty answer")
    return content


def _events(response, server: LLMServer, deadline: float) -> Iterator[str]:
    """Server-sent events: ``data: {chunk}`` lines until ``data: [DONE]``."""
    received, size = False, 0
    for line in response.iter_lines():
        _check_deadline(server, deadline)
        size += len(line)
        if size > MAX_REPLY_BYTES:
            raise _too_long(server)
        if not line.startswith("data:"):
            continue  # blank separators, ": keep-alive" comments, "event:" names
        payload = line[len("data:"):].strip()
        if payload == "[DONE]":
            break
        try:
            data = json.loads(payload)
        except ValueError:
            raise LLMError(
                f"the language model server at {server.url} sent a stream line that is not JSON: {_short(payload)}"
            ) from None
        content = _content_of(data, server, "delta")
        if content:
            received = True
            yield content
    if not received:
        raise LLMError(f"the language model at {server.url} returned an empty answer")
