"""Golden files: the reporters' output for the example roadmap, byte for byte.

When an output changes on purpose, regenerate them with
``python -m pytest tests/test_golden.py --update-golden`` and review the diff (the ``golden``
fixture of conftest.py: one switch for every golden file). The last tests check that switch and
the shared ``normalise`` themselves.
"""

from __future__ import annotations

import pytest

from conftest import check_golden

CASES = {
    "classify.txt": ["classify", "{roadmap}"],
    "classify.md": ["classify", "{roadmap}", "--format", "markdown"],
    "explain-PAY-12.txt": ["explain", "{roadmap}", "--item", "PAY-12"],
    "explain-PAY-12.md": ["explain", "{roadmap}", "--item", "PAY-12", "--format", "markdown"],
    "explain-PAY-38-beta.txt": ["explain", "{roadmap}", "--item", "PAY-38", "--set", "stage=beta"],
    # the quarter's capacity moves PAY-38 (its rules give tier-1; PAY-31 ranks first)
    "explain-PAY-38.txt": ["explain", "{roadmap}", "--item", "PAY-38"],
    "artifacts-PAY-38.txt": ["artifacts", "{roadmap}", "--item", "PAY-38"],
    "classify.csv": ["classify", "{roadmap}", "--format", "csv"],
    "artifacts-tier-2.txt": ["artifacts", "--tier", "tier-2"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_output_matches_golden_file(runner, roadmap, golden, name, monkeypatch):
    args = [a.format(roadmap="examples/roadmap.yaml") for a in CASES[name]]
    monkeypatch.chdir(roadmap.parent.parent)  # paths in the output are the ones typed
    result = runner(*args)
    assert result.exit_code == 0, result.output
    golden(name, result.stdout)


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
