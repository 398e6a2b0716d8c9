"""The project config (``.launchtier.toml``, or ``[tool.launchtier]`` in ``pyproject.toml``, from
the current directory upwards): its settings, their precedence (flag, environment, config,
default), ``launchtier config``, and a bad config refused on one line naming the file."""

from __future__ import annotations


import pytest

from conftest import DEFAULT_RULEBOOK, EXAMPLES, document

ROADMAP = EXAMPLES / "roadmap.yaml"
NONE_FOUND = "config file: none (no .launchtier.toml, nor pyproject.toml with [tool.launchtier], here or above)\n"
FORMATS = "one of table, text, json, jsonl, markdown, csv, yaml"


@pytest.fixture
def project(runner, tmp_path, monkeypatch):
    """A project folder; the commands run in a folder under it, with no $LAUNCHTIER_DB."""
    folder = tmp_path / "project"
    (folder / "sub").mkdir(parents=True)
    monkeypatch.chdir(folder / "sub")
    monkeypatch.delenv("LAUNCHTIER_DB")
    return folder


def test_without_a_config_every_setting_is_the_default(runner, project):
    result = runner("config")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (NONE_FOUND +
                             f"rules    {DEFAULT_RULEBOOK.resolve()}  (default)\n"
                             "db       launchtier.db  (default)\n"
                             "format   each command's own (table or text)  (default)\n"
                             "mapping  none  (default)\n")


def test_the_settings_of_the_config_file_found_upwards_relative_to_it(runner, project):
    config = project / ".launchtier.toml"
    config.write_text('# the team\'s settings\nrules = "rules/team"\ndb = "ledger/decisions.db"\nformat = "json"\n'
                      'mapping = "exports/jira.yaml"\n', encoding="utf-8")
    result = runner("config")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (f"config file: {config}\n"
                             f"rules    {project}/rules/team  (from {config})\n"
                             f"db       {project}/ledger/decisions.db  (from {config})\n"
                             f"format   json  (from {config})\n"
                             f"mapping  {project}/exports/jira.yaml  (from {config})\n")


def test_flags_win_over_the_environment_and_the_environment_over_the_config(runner, project):
    config = project / ".launchtier.toml"
    config.write_text('rules = "team.yaml"\ndb = "team.db"\nmapping = "jira.yaml"\n', encoding="utf-8")
    result = runner("config", "--db", "mine.db", env={"LAUNCHTIER_RULES": "env.yaml", "LAUNCHTIER_DB": "env.db"})
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (f"config file: {config}\n"
                             "rules    env.yaml  (from $LAUNCHTIER_RULES)\n"
                             "db       mine.db  (from --db)\n"
                             "format   each command's own (table or text)  (default)\n"
                             f"mapping  {project}/jira.yaml  (from {config})\n")


def test_pyproject_counts_only_with_a_tool_launchtier_table(runner, project):
    (project / "sub" / "pyproject.toml").write_text('[project]\nname = "launchtier-notes"\n', encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[project]\nname = "roadmap"\n\n[tool.launchtier]\nformat = "markdown"\n', encoding="utf-8")
    result = runner("config")
    assert result.stdout.splitlines()[0] == f"config file: {pyproject}"
    assert result.stdout.splitlines()[3] == f"format   markdown  (from {pyproject})"
    # beside it, .launchtier.toml comes first
    config = project / ".launchtier.toml"
    config.write_text('format = "csv"\n', encoding="utf-8")
    result = runner("config")
    assert result.stdout.splitlines()[3] == f"format   csv  (from {config})"


def test_commands_use_the_configs_rulebook_and_format(runner, project):
    (project / "team.yaml").write_text(DEFAULT_RULEBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    (project / ".launchtier.toml").write_text('rules = "team.yaml"\nformat = "json"\n', encoding="utf-8")
    shown = runner("rules", "show")
    assert document(shown.stdout)["source"] == str(project / "team.yaml")
    assert document(runner("classify", ROADMAP).stdout)["decisions"][0]["item"] == "PAY-12"
    # a flag wins; a format a command does not offer leaves it at its own
    assert runner("classify", ROADMAP, "--format", "csv").stdout.startswith("key,")
    (project / ".launchtier.toml").write_text('format = "table"\n', encoding="utf-8")
    explained = runner("explain", ROADMAP, "--item", "PAY-12")
    assert explained.stdout == runner("explain", ROADMAP, "--item", "PAY-12", "--format", "text").stdout


def test_what_comes_from_the_config_is_named_in_messages(runner, project):
    config = project / ".launchtier.toml"
    config.write_text('rules = "missing.yaml"\ndb = "team.db"\n', encoding="utf-8")
    result = runner("classify", ROADMAP)
    assert (result.exit_code, result.stderr) == (2, f"error: {project}/missing.yaml: no such file (from {config})\n")
    config.write_text('db = "team.db"\n', encoding="utf-8")
    result = runner("explain", ROADMAP, "--item", "PAY-12")
    assert result.stderr == (f"notice: no ledger at {project}/team.db (from {config}); explaining without its overrides, "
                             "recorded items or precedents\n")


def test_review_takes_the_configs_format_after_the_flag_and_the_reports_extension(runner, project):
    (project / ".launchtier.toml").write_text('format = "markdown"\n', encoding="utf-8")
    as_markdown = runner("review", ROADMAP, "--format", "markdown").stdout
    assert runner("review", ROADMAP).stdout == as_markdown
    assert runner("review", ROADMAP, "--format", "table").stdout == runner("review", ROADMAP, "--format", "TABLE").stdout
    assert runner("review", ROADMAP, "--format", "table").stdout != as_markdown
    # a report takes its extension's format over the config's, and the config's where the
    # extension names none
    reports = {name: runner("review", ROADMAP, "--report", name) for name in ("r.html", "r.txt")}
    assert [(r.exit_code, r.stderr) for r in reports.values()] == [
        (0, "wrote html report of 12 items (5 disputed) to r.html\n"),
        (0, "wrote markdown report of 12 items (5 disputed) to r.txt\n")]
    assert (project / "sub" / "r.txt").read_text(encoding="utf-8") == as_markdown
    assert (project / "sub" / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("command", [("decisions",), ("audit",), ("override", "PAY-12", "--tier", "tier-1",
                                                                 "--reason", "why", "--by", "PMM")])
def test_a_missing_ledger_named_by_the_config_says_so(runner, project, command):
    # named by --db or $LAUNCHTIER_DB: tests/test_filters.py
    config = project / ".launchtier.toml"
    config.write_text('db = "team.db"\n', encoding="utf-8")
    result = runner(*command)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"error: {project}/team.db (from {config}): no ledger here yet; record decisions first (launchtier record FILE "
        "--by NAME), or check the path (--db PATH, else $LAUNCHTIER_DB, else the project config's db, else launchtier.db "
        "in the current directory)\n"))


@pytest.mark.parametrize("name, text, problem", [
    (".launchtier.toml", '# settings\nrulez = "team.yaml"\n',
     "2: rulez: unknown field 'rulez'; did you mean 'rules'? (allowed: rules, db, format, mapping)"),
    (".launchtier.toml", 'rules = 3\n', "1: rules: 3 is not allowed; expected text"),
    (".launchtier.toml", 'format = "xml"\n', f"1: format: 'xml' is not allowed; expected {FORMATS}"),
    (".launchtier.toml", 'rules = \n', "1: invalid TOML: Invalid value (column 9)"),
    ("pyproject.toml", '[project]\nname = "x"\n[tool.launchtier]\n\nformat = 1\n',
     f"5: tool.launchtier.format: 1 is not allowed; expected {FORMATS}"),
])
def test_a_bad_config_is_refused_naming_the_file_line_and_key(runner, project, name, text, problem):
    config = project / name
    config.write_text(text, encoding="utf-8")
    for args in (("config",), ("classify", ROADMAP)):
        result = runner(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {config}:{problem}\n")
