"""Generators of hostile queries, shared by the query-parsing tests and the whole-engine tests.

``SYNTAX_QUERIES`` lists strings that break naive parsers (query-string syntax, SQL, control characters,
very long input); ``hostile_queries()`` mixes them with arbitrary Unicode, including categories a keyboard
rarely yields (control, format, private use, unassigned, lone surrogates).
"""

from __future__ import annotations

from hypothesis import strategies as st

_SHORT: list[str] = [
    "",
    " ",
    "\t\n\r",
    "\u3000",
    '"',
    '""',
    '"unbalanced',
    'unbalanced"',
    "“",
    "「法治",
    "』",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "OR",
    "AND NOT",
    "法治 OR 政府",
    "NOT 扶贫",
    "*",
    "?",
    "~",
    "^2",
    "法治^2",
    "\\",
    "\\\\",
    "/regex/",
    "/法治.*/",
    "field:value",
    "title:法治 AND year:[2020 TO 2022]",
    "'; DROP TABLE chunks; --",
    "' OR '1'='1",
    "%",
    "_",
    "%法治%",
    "\x00",
    "法\x00治",
    "\ud800",
    "\udfff法治\ud800",
    "\ud83d\ude00",
    "\u202e治法\u202c",
    "\u200b\u200d\ufeff",
    "e\u0301\u0301\u0301",
    "\u0301",
    "قانون الحكومة",
    "😀🏛️⚖️",
    "-法治",
    "-法治 -政府",
    '-"法治政府"',
    "--",
    "- -",
    "-",
    "---法治",
    "-!!",
    "2020-2021年",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "&amp;&lt;",
    "{{7*7}}",
    "${jndi:ldap://x}",
]
_LONG: list[str] = [
    "法" * 10_000,
    "a " * 5_000,
    '"' * 10_000,
    "-" * 10_000,
    ("法治 " * 3_000).strip(),
    "\x00" * 10_000,
]
SYNTAX_QUERIES: list[str] = _SHORT + _LONG


def hostile_queries() -> st.SearchStrategy[str]:
    """Arbitrary text (all categories, surrogates included), syntax strings, and mixes of both."""
    anything = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
    domain = st.sampled_from(["法治", "政府", "依法行政", "楓橋經驗", "枫桥经验", "的", "村", "OR", "-", '"'])
    mixed = st.lists(st.one_of(domain, st.sampled_from(_SHORT), anything), max_size=8).map(" ".join)
    return st.one_of(st.sampled_from(SYNTAX_QUERIES), anything, mixed)
