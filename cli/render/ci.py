"""Reporters for CI: rule tests as JUnit XML, lint findings as SARIF 2.1.0 (code scanning) or as
GitHub Actions workflow commands (annotations on the pull request's files).

A file is named as CI tools look for it: relative to the current directory when it is inside it
(a CI job runs in the repository's root), with ``/`` separators; absolute otherwise. Text from
files is escaped for each format: XML 1.0 forbids most control characters (:func:`safe.xml_text`),
a workflow command ends at a line break and its properties at ``,`` and ``:`` (GitHub's own
escaping), and JSON escapes by itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.etree import ElementTree as ET

from .safe import xml_text
from .text import coverage_text, finding_text, lint_summary, never_fired_text, shortfall_text

if TYPE_CHECKING:
    from launchtier.engine.rulecheck.lint import Finding, LintReport
    from launchtier.engine.rulecheck.ruletests import TestReport

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
GITHUB_LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def ci_path(file: str) -> tuple[str, bool]:
    """``file`` relative to the current directory, with ``/`` separators, when it is inside it
    (followed through symbolic links if need be), else absolute; and whether it is relative."""
    path = Path(os.path.abspath(file))
    cwd = Path.cwd()
    for candidate in (path, path.resolve()):
        if candidate.is_relative_to(cwd):
            return candidate.relative_to(cwd).as_posix(), True
    return path.as_posix(), False


# ---- rule tests: JUnit XML -----------------------------------------------------------------
def rule_tests_junit(report: TestReport) -> str:
    """One testsuite per case file, one testcase per case (its name), a failure with each
    expectation the case missed; with a minimum coverage, a testsuite ``coverage`` whose one
    testcase fails below it. The shape of Jenkins' junit-10.xsd, which most CI tools read."""
    root = ET.Element("testsuites", name="launchtier rules test", tests="0", failures="0", errors="0")
    by_file: dict[str, list] = {file: [] for file in report.files}
    for r in report.results:
        by_file.setdefault(r.file, []).append(r)
    tests = failures = 0
    for file, results in by_file.items():
        failed = [r for r in results if not r.passed]
        suite = ET.SubElement(root, "testsuite", name=xml_text(ci_path(file)[0]), tests=str(len(results)),
                              failures=str(len(failed)), errors="0")
        for r in results:
            case = ET.SubElement(suite, "testcase", name=xml_text(r.name), classname=xml_text(Path(file).stem))
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=xml_text("; ".join(r.differences)), type="expectation")
                failure.text = "\n".join(xml_text(d) for d in r.differences)
        tests += len(results)
        failures += len(failed)
    if report.min_coverage is not None:
        suite = ET.SubElement(root, "testsuite", name="coverage", tests="1", failures=str(int(report.below_minimum)),
                              errors="0")
        case = ET.SubElement(suite, "testcase", name="coverage", classname="coverage")
        details = [xml_text(coverage_text(report))] + ([xml_text(never_fired_text(report))] if report.coverage.never_fired else [])
        if report.below_minimum:
            failure = ET.SubElement(case, "failure", message=shortfall_text(report), type="coverage")
            failure.text = "\n".join(details)
        else:
            ET.SubElement(case, "system-out").text = "\n".join(details)
        tests += 1
        failures += report.below_minimum
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    ET.indent(root)
    # the declaration written here: ElementTree's names the locale's encoding when writing text
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# ---- lint: SARIF 2.1.0 ---------------------------------------------------------------------
def lint_sarif(report: LintReport) -> str:
    """One run of the tool ``launchtier``: every check lint makes as a rule (its code), and each
    finding as a result with its level, its text and the rulebook file and line it is about."""
    from importlib.metadata import version

    from launchtier.engine.rulecheck.lint import CHECKS

    codes = list(CHECKS)
    results = []
    for f in report.findings:
        result: dict = {"ruleId": f.code, "ruleIndex": codes.index(f.code), "level": f.level,
                        "message": {"text": finding_text(f)}}
        if f.file:
            path, relative = ci_path(f.file)
            location: dict = {"artifactLocation": {"uri": quote(path) if relative else Path(path).as_uri()}}
            if f.line:
                location["region"] = {"startLine": f.line}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    rules = [{"id": code, "shortDescription": {"text": check.summary}, "defaultConfiguration": {"level": check.level}}
             for code, check in CHECKS.items()]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "launchtier", "version": version("launchtier"), "rules": rules}},
        "results": results,
        "properties": {"rulebook": report.rulebook, "itemSpace": report.item_space},
    }]}
    return json.dumps(log, indent=2, ensure_ascii=False)


# ---- lint: GitHub Actions workflow commands ------------------------------------------------
def lint_github(report: LintReport) -> str:
    """``::error file=PATH,line=N,title=CODE::text`` (``::warning``, ``::notice`` for a note) a
    finding, then the summary line for the job's log."""
    return "\n".join([*(github_command(f) for f in report.findings), lint_summary(report)])


def github_command(f: Finding) -> str:
    properties = ([f"file={_property(ci_path(f.file)[0])}"] if f.file else []) + (
        [f"line={f.line}"] if f.line else []) + [f"title={_property(f.code)}"]
    return f"::{GITHUB_LEVELS[f.level]} {','.join(properties)}::{_data(finding_text(f))}"


def _data(text: str) -> str:
    # as @actions/core escapes a command's message: a line break would end the command
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    # and a property's value, which ends at "," and whose name ends at ":"
    return _data(text).replace(":", "%3A").replace(",", "%2C")
