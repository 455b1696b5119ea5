"""The embedded BM25 stores document lengths the way Lucene's one-byte norms do, so its scores equal
Elasticsearch's on chunks of any length (the store contract only uses chunks short enough to be exact)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.stores.bm25 import Bm25Index, lucene_length


def _long_to_int4(i: int) -> int:
    """Lucene's SmallFloat.longToInt4, line by line."""
    num_bits = i.bit_length()
    if num_bits < 4:
        return i
    shift = num_bits - 4
    encoded = (i >> shift) & 0x07
    return encoded | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits, shift = i & 0x07, (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_NUM_FREE_VALUES = 255 - _long_to_int4(2**31 - 1)


def _byte4_round_trip(i: int) -> int:
    """SmallFloat.byte4ToInt(SmallFloat.intToByte4(i))."""
    encoded = i if i < _NUM_FREE_VALUES else _NUM_FREE_VALUES + _long_to_int4(i - _NUM_FREE_VALUES)
    return (
        encoded
        if encoded < _NUM_FREE_VALUES
        else _NUM_FREE_VALUES + _int4_to_long(encoded - _NUM_FREE_VALUES)
    )


def test_lengths_round_trip_like_lucene_norms() -> None:
    lengths = np.concatenate([np.arange(0, 5000), np.array([10**5, 10**6 + 7, 2**31 - 1])])
    expected = np.array([_byte4_round_trip(int(n)) for n in lengths])
    np.testing.assert_array_equal(lucene_length(lengths), expected)
    assert _NUM_FREE_VALUES == 24  # below this, lengths are exact


def test_long_documents_are_scored_with_the_stored_length() -> None:
    short = "a " + "x " * 30  # 31 tokens: stored as 24 + 7
    long = "a " + "y " * 99  # 100 tokens: 24 + 76 keeps 4 bits, 72: stored as 96
    index = Bm25Index.build([short, long])
    docs, scores = index.scores(["a"])
    lengths = lucene_length(np.array([31, 100]))
    assert list(lengths) == [31, 96]
    avgdl = (31 + 100) / 2
    idf = np.log1p((2 - 2 + 0.5) / (2 + 0.5))
    expected = [idf * 1 / (1 + 1.2 * (0.25 + 0.75 * n / avgdl)) for n in lengths]
    assert list(docs) == [0, 1]
    assert scores == pytest.approx(expected, rel=1e-6)
