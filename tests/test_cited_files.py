"""Every file the docs and docstrings cite by path is in the repository.

A path in backticks (``docs/engine.md``, ``service/host.py``) is looked up from the repository's
root, the package's folder and the citing file's folder. Files kept outside the repository
(the API contract) are named without a path, and said to be outside.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "youku_tui"
CITED_PATH = re.compile(r"`{1,2}((?:\.\./|[\w.-]+/)+[\w.-]+\.(?:md|py|toml|json|txt))`{1,2}")


def _citing_files() -> list[Path]:
    docs = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("benchmarks/*.py")]
    return sorted([*docs, *PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.md")])


def _exists(cited: str, citing: Path) -> bool:
    return any((base / cited).exists() for base in (ROOT, PACKAGE, citing.parent))


def test_every_cited_path_exists() -> None:
    missing = [
        f"{citing.relative_to(ROOT)}: {match[1]}"
        for citing in _citing_files()
        for match in CITED_PATH.finditer(citing.read_text(encoding="utf-8"))
        if not _exists(match[1], citing)
    ]
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)


def test_the_check_sees_a_missing_file(tmp_path: Path) -> None:
    text = "see ``shared/youku-open-api.md`` and `docs/engine.md`"
    cited = [m[1] for m in CITED_PATH.finditer(text)]
    assert cited == ["shared/youku-open-api.md", "docs/engine.md"]
    assert [c for c in cited if not _exists(c, tmp_path / "x.py")] == ["shared/youku-open-api.md"]
