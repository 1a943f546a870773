"""Which language model server to ask, and how strictly its sentences are checked.

``LLMServer`` comes from the environment (``RAG_LLM_URL``, ``RAG_LLM_MODEL``, optional
``RAG_LLM_API_KEY``, ``RAG_LLM_TIMEOUT``, ``RAG_LLM_MAX_TOKENS``) or from ``rag ask/serve
--llm-url … --llm-model …``. Nothing is configured by default, and then nothing is ever sent
anywhere: the answer is quoted, as without this package.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from rag.errors import RagError

EXAMPLE_URL = "http://127.0.0.1:11434/v1"


@dataclass(frozen=True)
class LLMServer:
    """An OpenAI-compatible chat-completions server: Ollama, llama.cpp's llama-server, vLLM, LM Studio…

    ``url`` is the API's base, the part before ``/chat/completions``
    (``http://127.0.0.1:11434/v1`` for Ollama). ``timeout`` bounds the whole answer, in
    seconds; ``max_tokens`` its length.

    >>> LLMServer("http://127.0.0.1:11434/v1", "llama3.2").chat_url
    'http://127.0.0.1:11434/v1/chat/completions'
    """

    url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    max_tokens: int = 512

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.strip():
            raise RagError(f"the language model URL is empty; give the server's API base, e.g. {EXAMPLE_URL}")
        url = self.url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RagError(
                f"the language model URL {self.url!r} is not an http(s) address; give the server's API base, "
                f"e.g. {EXAMPLE_URL} (Ollama) or http://127.0.0.1:8080/v1 (llama-server)"
            )
        if url.endswith("/chat/completions"):  # the full endpoint pasted: keep its base
            url = url[: -len("/chat/completions")]
        object.__setattr__(self, "url", url)
        if not isinstance(self.model, str) or not self.model.strip():
            raise RagError("no language model named: set RAG_LLM_MODEL (or --llm-model), e.g. llama3.2")
        object.__setattr__(self, "model", self.model.strip())
        if not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise RagError(f"the language model timeout must be a positive number of seconds, not {self.timeout!r}")
        if not (isinstance(self.max_tokens, int) and self.max_tokens > 0):
            raise RagError(f"the language model's max tokens must be a positive whole number, not {self.max_tokens!r}")

    @property
    def chat_url(self) -> str:
        return f"{self.url}/chat/completions"

    def __repr__(self) -> str:  # never print the key
        key = ", api_key=…" if self.api_key else ""
        return f"LLMServer(url={self.url!r}, model={self.model!r}{key}, timeout={self.timeout:g})"

    @classmethod
    def from_env(cls, url: str | None = None, model: str | None = None) -> "LLMServer | None":
        """The server named by ``url``/``model`` or else by $RAG_LLM_URL/$RAG_LLM_MODEL; None when no URL is set.

        A URL without a model (or a model without a URL) is a mistake worth saying, not a
        reason to quote silently.
        """
        url = url if url is not None else os.environ.get("RAG_LLM_URL", "").strip()
        model = model if model is not None else os.environ.get("RAG_LLM_MODEL", "").strip()
        if not url:
            if model:
                raise RagError(
                    f"a language model is named ({model!r}) but no server: set RAG_LLM_URL (or --llm-url) "
                    f"too, e.g. {EXAMPLE_URL}"
                )
            return None
        if not model:
            raise RagError(
                f"a language model server is set ({url}) but no model: set RAG_LLM_MODEL (or --llm-model) "
                "too, e.g. llama3.2 for Ollama (llama-server takes any name)"
            )
        return cls(
            url, model, api_key=os.environ.get("RAG_LLM_API_KEY") or None,
            timeout=_env_number("RAG_LLM_TIMEOUT", cls.timeout, float),
            max_tokens=int(_env_number("RAG_LLM_MAX_TOKENS", cls.max_tokens, int)),
        )


def _env_number(name: str, default: float, kind: type) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if not value > 0:
        raise RagError(f"{name}={raw!r} is not a positive number; set it like {name}={default:g}, or unset it")
    return value


@dataclass(frozen=True)
class SupportSettings:
    """When a generated sentence counts as said by the passage it cites.

    A sentence must pass every gate: its numbers, dates and names all stand in the
    passage (or its date), it does not negate what its best passage sentence says (or the
    reverse), and both scores reach their thresholds. The two thresholds are the ones
    ``scripts/calibrate_support.py`` chooses on the 134 labelled pairs of
    ``eval/support_pairs.jsonl`` with all-MiniLM-L6-v2: the best F0.5 (precision counts
    twice), ties to the loosest. Measured there: precision 1.000, recall 0.758; leave-one-out
    precision 0.980, recall 0.758.
    """

    # Cosine of the sentence and its best passage sentence (or adjacent pair of sentences).
    # Calibrated for all-MiniLM-L6-v2; another embedding model has another scale.
    min_similarity: float = 0.80
    # Share of the sentence's content words (stemmed, stopwords out) found in the passage.
    min_coverage: float = 0.85


SUPPORT = SupportSettings()
