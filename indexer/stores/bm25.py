"""In-memory BM25 over pre-tokenized documents, scored with Lucene's formula (as Elasticsearch does).

score(d, q) = Σ_t qtf(t) · idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl)),
idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)); N and avgdl count only documents with at least one token
(Lucene's docCount). Like Lucene, dl is the document length as its one-byte norm stores it: exact below 24
tokens, then rounded down to 4 significant bits (``lucene_length``), so scores equal Elasticsearch's.
Each posting stores its precomputed weight, so a query is a scatter-add per term.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75


# Lucene's SmallFloat.intToByte4/byte4ToInt: lengths below _FREE are stored exactly, larger ones keep their
# 4 most significant bits (the leading one implicit) after subtracting _FREE.
_FREE = 24


def lucene_length(lengths: np.ndarray) -> np.ndarray:
    """Document lengths as Lucene's norms give them back (``byte4ToInt(intToByte4(n))``)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    rest = np.maximum(lengths - _FREE, 0)
    bit_length = np.frexp(rest.astype(np.float64))[1]  # 0 for 0; exact for lengths below 2**53
    shift = np.maximum(bit_length - 4, 0)
    kept = (rest >> shift) << shift  # the 4 most significant bits (below 8: all of them)
    return np.where(lengths < _FREE, lengths, _FREE + kept)


class _Vocab(dict):
    """term -> id, numbering unseen terms on lookup; only new terms leave C for Python."""

    def __missing__(self, term: str) -> int:
        term_id = self[term] = len(self)
        return term_id


@dataclass(frozen=True)
class Bm25Index:
    vocab: dict[str, int]
    offsets: np.ndarray  # int64, len(vocab) + 1: postings of term t are [offsets[t], offsets[t + 1])
    docs: np.ndarray  # int32 document indices, ascending within a term
    weights: np.ndarray  # float32 per-posting BM25 weight
    n_docs: int

    @classmethod
    def build(cls, token_strings: Iterable[str], k1: float = K1, b: float = B) -> Bm25Index:
        """Index documents given as space-joined token strings (the embedded store's storage form)."""
        vocab = _Vocab()
        lookup = vocab.__getitem__
        term_ids, lengths = array("i"), array("q")
        for text in token_strings:  # one document at a time: no list of millions of token strings
            tokens = text.split()
            term_ids.extend(map(lookup, tokens))
            lengths.append(len(tokens))
        n = len(lengths)
        doc_lengths = np.frombuffer(lengths, np.int64) if n else np.zeros(0, np.int64)
        terms = np.frombuffer(term_ids, np.int32) if term_ids else np.zeros(0, np.int32)

        # One sorted key per token, term-major then doc; runs of equal keys are the term frequencies.
        # Built in place, each temporary dropped once used: at corpus scale (tens of millions of tokens)
        # every int64 copy is hundreds of MiB on top of the snapshot a reloading server still holds.
        keys = terms.astype(np.int64)
        del terms, term_ids
        keys *= max(n, 1)
        keys += np.repeat(np.arange(n, dtype=np.int64), doc_lengths)
        keys.sort()
        first = np.ones(len(keys), bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        run_starts = np.flatnonzero(first)
        del first
        tf = np.diff(np.append(run_starts, len(keys))).astype(np.float64)
        keys = keys[run_starts]
        del run_starts
        term, docs = np.divmod(keys, max(n, 1))
        del keys
        df = np.bincount(term, minlength=len(vocab))
        offsets = np.concatenate(([0], np.cumsum(df))).astype(np.int64)

        n_nonempty = int((doc_lengths > 0).sum())
        avgdl = float(doc_lengths.sum()) / max(n_nonempty, 1)
        idf = np.log1p((n_nonempty - df + 0.5) / (df + 0.5))
        norm = k1 * (1.0 - b + b * lucene_length(doc_lengths)[docs] / avgdl)
        weights = (idf[term] * tf / (tf + norm)).astype(np.float32)
        return cls(vocab=dict(vocab), offsets=offsets, docs=docs.astype(np.int32), weights=weights, n_docs=n)

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

    def presence(self, token: str) -> np.ndarray:
        """Boolean mask of the documents that contain ``token`` (from its postings; no scoring)."""
        mask = np.zeros(self.n_docs, bool)
        t = self.vocab.get(token)
        if t is not None:
            mask[self.docs[self.offsets[t] : self.offsets[t + 1]]] = True
        return mask
