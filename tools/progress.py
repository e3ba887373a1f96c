"""Progress bars for the long tools, on stderr so that stdout keeps only the results."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress_bar(total: int | None, description: str, unit: str = "it") -> tqdm:
    """A bar to update by hand (`bar.update(n)`, `bar.set_postfix_str(...)`); close it after."""
    return tqdm(
        total=total, desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True
    )
