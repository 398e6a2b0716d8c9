"""Golden files: the reporters' output for the example roadmap, byte for byte.

When an output changes on purpose, regenerate them with
``python -m pytest tests/test_golden.py --update-golden`` and review the diff (the ``golden``
fixture of conftest.py: one switch for every golden file).
"""

from __future__ import annotations

import pytest

CASES = {
    "classify.txt": ["classify", "{roadmap}"],
    "classify.md": ["classify", "{roadmap}", "--format", "markdown"],
    "explain-PAY-12.txt": ["explain", "{roadmap}", "--item", "PAY-12"],
    "explain-PAY-12.md": ["explain", "{roadmap}", "--item", "PAY-12", "--format", "markdown"],
    "explain-PAY-38-beta.txt": ["explain", "{roadmap}", "--item", "PAY-38", "--set", "stage=beta"],
    # the quarter's capacity moves PAY-38 (its rules give tier-1; PAY-31 ranks first)
    "explain-PAY-38.txt": ["explain", "{roadmap}", "--item", "PAY-38"],
    "artifacts-PAY-38.txt": ["artifacts", "--item", "{roadmap}", "--item-key", "PAY-38"],
    "classify.csv": ["classify", "{roadmap}", "--format", "csv"],
    "artifacts-tier-2.txt": ["artifacts", "tier-2"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_output_matches_golden_file(runner, roadmap, golden, name, monkeypatch):
    args = [a.format(roadmap="examples/roadmap.yaml") for a in CASES[name]]
    monkeypatch.chdir(roadmap.parent.parent)  # paths in the output are the ones typed
    result = runner(*args)
    assert result.exit_code == 0, result.output
    golden(name, result.stdout)
