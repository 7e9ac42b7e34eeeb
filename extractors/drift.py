"""Schema drift: the columns a source sends differ from what its extractor expects."""

from __future__ import annotations

from collections.abc import Iterable

from extractors.errors import SchemaDriftError


def check_columns(
    actual: Iterable[str],
    *,
    expected: Iterable[str],
    required: Iterable[str],
    allow_added: bool,
    source: str,
    window: object,
    where: str,
) -> list[str]:
    """Return the added columns (to ignore and record) or raise ``SchemaDriftError``.

    A renamed column shows up as one missing and one added column; both are named so
    the reader can see the rename.
    """
    actual_set = set(actual)
    missing = sorted(set(required) - actual_set)
    added = sorted(actual_set - set(expected))
    if missing or (added and not allow_added):
        problems = []
        if missing:
            problems.append(f"missing columns {missing}")
        if added:
            problems.append(f"unexpected columns {added}")
        hint = " (a renamed column?)" if missing and added else ""
        fix = (
            ""
            if missing
            else "; set the source option allow_added_columns: true to ignore added columns"
        )
        raise SchemaDriftError(
            f"schema drift: {' and '.join(problems)}{hint}{fix}",
            source=source,
            window=window,
            record=where,
        )
    return added
