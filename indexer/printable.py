"""Text from outside (file names, queries) made safe to print on a terminal or in a one-line summary.

A newline in a file name could forge a summary line and an escape sequence could rewrite the screen, so
control and format characters (C0, C1, DEL, bidi overrides, line and paragraph separators) are shown as
Python-style escapes; everything printable, CJK included, passes unchanged.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control, format and separator characters escaped (``\\n``, ``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)
