"""In-memory BM25 over pre-tokenized documents, scored with Lucene's formula (as Elasticsearch does).

score(d, q) = Σ_t qtf(t) · idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl)),
idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)); N and avgdl count only documents with at least one token
(Lucene's docCount). Each posting stores its precomputed weight, so a query is a scatter-add per term.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Bm25Index:
    vocab: dict[str, int]
    offsets: np.ndarray  # int64, len(vocab) + 1: postings of term t are [offsets[t], offsets[t + 1])
    docs: np.ndarray  # int32 document indices, ascending within a term
    weights: np.ndarray  # float32 per-posting BM25 weight
    n_docs: int

    @classmethod
    def build(cls, token_strings: Sequence[str], k1: float = K1, b: float = B) -> Bm25Index:
        """Index documents given as space-joined token strings (the embedded store's storage form)."""
        n = len(token_strings)
        lengths = np.fromiter((s.count(" ") + 1 if s else 0 for s in token_strings), np.int64, n)
        tokens = " ".join(token_strings).split(" ") if n else []
        if len(tokens) != int(lengths.sum()):  # not single-space joined: split each document properly
            per_doc = [s.split() for s in token_strings]
            lengths = np.fromiter(map(len, per_doc), np.int64, n)
            tokens = list(itertools.chain.from_iterable(per_doc))
        # setdefault with a running position gives each term the position of its first occurrence,
        # all in C; np.unique then compacts those positions into term ids 0..V-1.
        first_seen: dict[str, int] = {}
        first = np.fromiter(map(first_seen.setdefault, tokens, itertools.count()), np.int64, len(tokens))
        positions, term_of_token = np.unique(first, return_inverse=True)
        term_ids = np.searchsorted(positions, list(first_seen.values())).tolist()
        vocab = dict(zip(first_seen, term_ids, strict=True))
        doc_of_token = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, tf = np.unique(term_of_token.astype(np.int64) * max(n, 1) + doc_of_token, return_counts=True)
        term = keys // max(n, 1)
        docs = (keys % max(n, 1)).astype(np.int32)
        df = np.bincount(term, minlength=len(vocab))
        offsets = np.concatenate(([0], np.cumsum(df))).astype(np.int64)

        n_nonempty = int((lengths > 0).sum())
        avgdl = float(lengths.sum()) / max(n_nonempty, 1)
        idf = np.log1p((n_nonempty - df + 0.5) / (df + 0.5))
        tf = tf.astype(np.float64)
        norm = k1 * (1.0 - b + b * lengths[docs] / avgdl)
        weights = (idf[term] * tf / (tf + norm)).astype(np.float32)
        return cls(vocab=vocab, offsets=offsets, docs=docs, weights=weights, n_docs=n)

    def scores(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores) of the documents matching at least one token; indices ascending.

        A token repeated in the query counts as often as it appears, like a Lucene boolean query.
        """
        terms = [(self.vocab[t], c) for t, c in Counter(tokens).items() if t in self.vocab]
        if not terms:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if len(terms) == 1:
            t, c = terms[0]
            lo, hi = self.offsets[t], self.offsets[t + 1]
            return self.docs[lo:hi].astype(np.int64), self.weights[lo:hi] * np.float32(c)
        acc = np.zeros(self.n_docs, np.float32)
        for t, c in terms:  # docs are unique within one term, so fancy-index += is a correct scatter
            lo, hi = self.offsets[t], self.offsets[t + 1]
            acc[self.docs[lo:hi]] += self.weights[lo:hi] * np.float32(c)
        hits = np.flatnonzero(acc)
        return hits, acc[hits]

    def doc_freq(self, token: str) -> int:
        t = self.vocab.get(token)
        return 0 if t is None else int(self.offsets[t + 1] - self.offsets[t])
