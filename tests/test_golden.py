"""Golden files: the reporters' output for the example roadmap, byte for byte.

When an output changes on purpose, regenerate them with
``python -m pytest tests/test_golden.py --update-golden`` and review the diff (the ``golden``
fixture of conftest.py: one switch for every golden file). The last tests check that switch and
the shared ``normalise`` themselves.

The width text is laid out for (``cli.output.width()``) is in a golden file's name: ``-80`` and
``-120`` are COLUMNS=80 and 120, ``-piped`` is no COLUMNS and no terminal (output to a file or a
program), and a name without one is the suite's COLUMNS=100 (conftest's runner).
"""

from __future__ import annotations

import pytest

from conftest import ROOT, check_golden, normalise

CASES = {
    "classify.txt": ["classify", "{roadmap}"],
    "classify.md": ["classify", "{roadmap}", "--format", "markdown"],
    "explain-PAY-12.txt": ["explain", "{roadmap}", "--item", "PAY-12"],
    "explain-PAY-12.md": ["explain", "{roadmap}", "--item", "PAY-12", "--format", "markdown"],
    "explain-PAY-38-beta.txt": ["explain", "{roadmap}", "--item", "PAY-38", "--set", "stage=beta"],
    # the quarter's capacity moves PAY-31 (its rules give tier-1; PAY-38 ranks first on customer impact)
    "explain-PAY-31.txt": ["explain", "{roadmap}", "--item", "PAY-31"],
    "artifacts-PAY-38.txt": ["artifacts", "{roadmap}", "--item", "PAY-38"],
    "classify.csv": ["classify", "{roadmap}", "--format", "csv"],
    "artifacts-tier-2.txt": ["artifacts", "--tier", "tier-2"],
    # the default rulebook against the shipped calibration set of published launches
    "calibrate.txt": ["rules", "calibrate"],
    "calibrate.md": ["rules", "calibrate", "--format", "markdown"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_output_matches_golden_file(runner, roadmap, golden, name, monkeypatch):
    args = [a.format(roadmap="examples/roadmap.yaml") for a in CASES[name]]
    monkeypatch.chdir(roadmap.parent.parent)  # paths in the output are the ones typed
    result = runner(*args)
    assert result.exit_code == 0, result.output
    golden(name, result.stdout)


# The outputs checked at each width (tests/test_width.py holds every line of them to it).
WIDE_CASES = {
    "classify": ["classify", "{roadmap}"],
    "explain-PAY-12": ["explain", "{roadmap}", "--item", "PAY-12"],
    "explain-PAY-38-beta": ["explain", "{roadmap}", "--item", "PAY-38", "--set", "stage=beta"],
    "review": ["review", "{roadmap}"],
    # the rulebook named as typed, relative: a checkout's own path would change where lines wrap
    "rules-show": ["rules", "show", "--rules", "rules/default.yaml"],
    "rules-lint": ["rules", "lint", "--rules", "rules/default.yaml"],
}
SLOW_CASES = {"rules-lint"}  # a full enumeration of the default rulebook's items: seconds a run
COLUMNS = {"80": "80", "120": "120", "piped": None}


def wide_cases() -> list:
    return [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_CASES else name for name in WIDE_CASES]


def run_at(runner, case: str, columns: str | None) -> str:
    """The case's command run from the repository (paths in the output as typed) with COLUMNS
    set to ``columns``, or unset (None: piped, as the runner's standard output is no terminal)."""
    result = runner(*[a.format(roadmap="examples/roadmap.yaml") for a in WIDE_CASES[case]], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert str(ROOT) not in result.stdout  # the layout must not depend on where the checkout is
    return result.stdout


@pytest.mark.parametrize("width", list(COLUMNS))
@pytest.mark.parametrize("case", wide_cases())
def test_output_at_a_width_matches_golden_file(runner, golden, case, width, monkeypatch):
    monkeypatch.chdir(ROOT)
    golden(f"{case}-{width}.txt", run_at(runner, case, COLUMNS[width]))


def test_the_golden_check_compares_whole_texts_and_rewrites_only_when_asked(tmp_path):
    (tmp_path / "out.txt").write_text("one\ntwo\n", encoding="utf-8")
    check_golden("out.txt", "one\ntwo\n", update=False, folder=tmp_path)
    with pytest.raises(AssertionError, match="output differs from"):
        check_golden("out.txt", "one\n", update=False, folder=tmp_path)  # a prefix is not the whole text
    with pytest.raises(AssertionError):
        check_golden("out.txt", "one\ntwo", update=False, folder=tmp_path)  # nor is it without its last newline
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        check_golden("new/missing.txt", "x", update=False, folder=tmp_path)
    assert not (tmp_path / "new").exists()
    check_golden("out.txt", "three\n", update=True, folder=tmp_path)
    check_golden("new/missing.txt", "x", update=True, folder=tmp_path)
    assert (tmp_path / "out.txt").read_text() == "three\n" and (tmp_path / "new" / "missing.txt").read_text() == "x"


def test_normalise_replaces_only_what_varies():
    from conftest import normalise

    text = ("Audit of /tmp/t/ledger/launchtier.db (in /tmp/t) at 2027-01-05T09:00:00Z\n"
            "  chain head sha256:" + "ab" * 32 + "; rulebook sha256:f5ddfa0413df…\n")
    assert normalise(text, paths={"tmp": "/tmp/t", "ledger": "/tmp/t/ledger/launchtier.db"}, times=True, hashes=True) == (
        "Audit of <ledger> (in <tmp>) at <time>\n  chain head sha256:<hash>; rulebook sha256:f5ddfa0413df…\n")
    assert normalise(text) == text
