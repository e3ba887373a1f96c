"""docs/security.md names, per threat, the test that proves its control: every such test exists.

A renamed or deleted test would otherwise leave the threat model citing a proof that is gone.
Read statically (the test functions' definitions), so it runs in milliseconds.
"""

from __future__ import annotations

import re

from opastin.config import ROOT

DOC = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
ACTORS = ("Public visitor", "Telegram user", "Staff", "Network neighbour")


def threat_rows() -> dict[str, list[str]]:
    """Each actor's table rows (threat | control | proved by), under its `## ` heading."""
    rows: dict[str, list[str]] = {}
    section = ""
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:]
        elif line.startswith("| ") and not line.startswith(("| threat ", "|---")):
            rows.setdefault(section, []).append(line)
    return rows


def test_every_test_the_doc_names_exists() -> None:
    references = REFERENCE.findall(DOC.read_text())
    assert len(references) >= 30, "the doc names its proofs as `tests/...py::test_name`"
    missing = []
    for path, name in set(references):
        file = ROOT / path
        if not file.is_file() or not re.search(
            rf"^(async )?def {name}\(", file.read_text(), re.MULTILINE
        ):
            missing.append(f"{path}::{name}")
    assert missing == [], f"docs/security.md names tests that do not exist: {sorted(missing)}"


def test_each_actor_has_threats_and_each_threat_a_proof_or_says_why_not() -> None:
    rows = threat_rows()
    for actor in ACTORS:
        section = next((s for s in rows if s.startswith(actor)), None)
        assert section, f"no section for {actor}"
        for row in rows[section]:
            cells = [cell.strip() for cell in row.strip("|").split(" | ")]
            assert len(cells) == 3, row
            assert REFERENCE.search(cells[2]) or cells[2].startswith("not tested:"), row


def test_the_check_finds_a_missing_test() -> None:
    """The reference pattern and the definition search catch a name that is not there."""
    text = "`tests/unit/test_security_doc.py::test_that_was_never_written`"
    ((path, name),) = REFERENCE.findall(text)
    assert not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
