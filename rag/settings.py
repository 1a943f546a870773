"""Every tunable constant of the pipeline, in one place, each with where it came from.

Settings that shape what an index holds (chunking, the entity tagger) are saved in
its manifest, so an index is always read the way it was written. Scripts and
``rag eval`` pass settings objects around instead of patching module constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Tagger = Literal["spacy", "rules", "none"]


@dataclass(frozen=True)
class ChunkingSettings:
    """How documents become passages (saved with the index)."""

    # Passages longer than this are cut into overlapping windows of whole sentences.
    # MiniLM reads 256 word pieces (~1,000 characters of English); more is truncated.
    max_chars: int = 1000
    # A paragraph this short (a title, a heading, a byline) joins the one after it.
    tiny: int = 60
    # A name found in more than this share of a document's paragraphs (the country a
    # blog is about) ties no two paragraphs together.
    common_name_share: float = 0.1
    # Documents with this many date headers or datelines are read as news: a live blog
    # or news page, whose entries continue over several paragraphs.
    news_min_dates: int = 2


@dataclass(frozen=True)
class RetrievalSettings:
    """How dense and keyword rankings are fused (scripts/fusion_k.py measures rrf_k)."""

    # Reciprocal rank fusion constant: k=10 beat 30 and 60 on the dev set, SciFact and SQuAD.
    rrf_k: int = 10
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    depth: int = 100  # how deep each list is read before fusion
    # Two passages of one page sharing more than this share of the shorter are one passage.
    near_duplicate_overlap: float = 0.5
    # From this many passages, the dense list is ranked in a second thread while BM25
    # scores in the first: FAISS and numpy's large array operations release Python's
    # lock, so the two overlap on a second core. Below it a search takes a few
    # milliseconds and the hand-over between threads would be a visible share of them.
    parallel_from: int = 50_000


@dataclass(frozen=True)
class AnswerSettings:
    """How quotes are chosen and when the answer abstains.

    Sentence weights and the abstention threshold are not set here by hand: they are
    fitted on public QA data by scripts/fit_answer_model.py into
    rag/answering/model.json. What is here are limits of composition.
    """

    # Quotes in one answer, at most: an answer is a few sentences, not a page.
    max_quotes: int = 4
    # An overview quotes the best sentence of this many distinct passages at most.
    overview_passages: int = 4
    # A neighbouring sentence joins the best one when its probability is at least this
    # share of the best's: two adjacent sentences that both answer tell one thing.
    neighbour_share: float = 0.6
    # List and dispute quotes must score at least this share of the best quote.
    companion_share: float = 0.35
    # Abstention threshold on the answer's confidence; None takes the fitted one.
    threshold: float | None = None


@dataclass(frozen=True)
class VectorSettings:
    """How a segment's vectors are searched (rag.vectors); each segment records what it got."""

    # Segments with this many passages or more get an IVF index instead of exact search.
    # Exact search costs ~0.1 µs per passage per query on this machine (5 ms at 50,000),
    # and an IVF index must be trained (k-means), which only pays off for big segments.
    ivf_threshold: int = 50_000
    # Cells read per query: a latency budget, not a recall guarantee. recall@10 against exact
    # search at 64 cells: 0.951 on MiniLM vectors of 44,476 sentences (of 1,024 cells), 0.962
    # on the million-passage benchmark's stand-in vectors (of 2,048 per segment); 0.99 takes
    # about a quarter of the cells (scripts/ann_recall.py, scripts/bench_scale.py --curve).
    nprobe: int = 64
    # k-means training sample per cell (faiss allows 39–256; see rag.vectors.build).
    training_points_per_cell: int = 64
    seed: int = 1234
    # A sync stores a vector for every sentence of the passages it writes while the index
    # holds at most this many passages (0: never). Answers then read them instead of
    # encoding the sentences they meet (~40 ms an answer here). Indexing pays for it:
    # sentences take about as long again to encode as their passages (2.6-3.1 s against
    # 3.0-3.6 s for the default corpus here), and ~0.8 KB of disk per sentence. Past this
    # size that would be hours and gigabytes for a few tens of milliseconds an answer, so
    # big indexes encode the sentences an answer meets when it meets them (then cached).
    sentences_up_to: int = 20_000


@dataclass(frozen=True)
class SegmentSettings:
    """How an index is cut into segments and merged (rag.store); Lucene's tiered policy, simplified."""

    # A sync writes a segment every this many passages (whole files), and merges never
    # make a bigger one: it bounds a writer's memory (~1.5 KB a passage) and the work one
    # merge can cost. A million passages are four segments.
    max_passages: int = 250_000
    # Segments within one tier (a factor of `merge_factor` in size, from `floor` passages
    # up) are merged once there are this many: each passage is rewritten about
    # log10(n / floor) times over its life, and a search visits at most ~10 per tier.
    merge_factor: int = 10
    floor: int = 1_000
    # A segment with this share of its passages deleted is rewritten without them.
    expunge_share: float = 0.3


@dataclass(frozen=True)
class StorageSettings:
    """How an index is stored (saved in its manifest; ``sync(..., storage=...)`` changes it,
    for the segments and merges written from then on)."""

    segments: SegmentSettings = SegmentSettings()
    vectors: VectorSettings = VectorSettings()


CHUNKING = ChunkingSettings()
VECTORS = VectorSettings()
SEGMENTS = SegmentSettings()
STORAGE = StorageSettings()
RETRIEVAL = RetrievalSettings()
ANSWER = AnswerSettings()
