"""How hard property tests search: a tenth of their examples in the quick run, all in the thorough one.

``make test`` runs quick; ``make test-all`` and CI set ``TEST_THOROUGH=1``. The properties are the same in
both runs, only the number of generated cases differs.
"""

from __future__ import annotations

import os

THOROUGH = os.environ.get("TEST_THOROUGH") == "1"


def examples(thorough: int) -> int:
    """``thorough`` examples in the thorough run; a tenth (at least 20) otherwise."""
    return thorough if THOROUGH else max(20, thorough // 10)
