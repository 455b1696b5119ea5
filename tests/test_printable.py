from __future__ import annotations

import pytest

from indexer.printable import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("法治政府建设 2023.txt", "法治政府建设 2023.txt"),
        ("forged\nindexed 9 reports", "forged\\nindexed 9 reports"),
        ("clear\x1b[2J.txt", "clear\\x1b[2J.txt"),
        ("bidi\u202etxt.exe", "bidi\\u202etxt.exe"),
        ("tab\there\r", "tab\\there\\r"),
        ("del\x7f c1\x85", "del\\x7f c1\\x85"),
        ("全角\u3000空格", "全角\u3000空格"),
    ],
)
def test_control_and_format_characters_are_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown
