"""The libraries' words that launchtier reads, one test per assumption, each naming its library.

launchtier words its own messages, but it recognises some errors of its libraries by their text
(jiter has no error codes; PyYAML tells a missing constructor only in words). A release that
words one of them differently fails here, naming the library and what to update, rather than as
a changed message somewhere in the suite.
"""

from __future__ import annotations

import jiter
import pytest
import yaml

from launchtier.engine.files import yamlio

JITER_CASES = [
    (b'{"a": tru}', "expected ident"),
    (b'{"a": }', "expected value"),
    (b"{a: 1}", "key must be a string"),
    (b'{"a": "\\ud800"}', "unexpected end of hex escape"),
    (b'{"a": "\\udc00"}', "lone leading surrogate in hex escape"),
    (b'{"a": 1, "a": 2}', 'Detected duplicate key "a"'),
    (b"[" * 300, "recursion limit exceeded"),
    (b"1" * 5000, "number out of range"),
    (b'{"a": "x', "EOF while parsing a string"),
]


@pytest.mark.parametrize("text, words", JITER_CASES, ids=[w for _, w in JITER_CASES])
def test_jiter_words_the_errors_launchtier_translates_as_it_expects(text, words):
    with pytest.raises(ValueError) as info:
        jiter.from_json(text, catch_duplicate_keys=True)
    found = yamlio._JITER_ERROR.match(str(info.value))
    assert found and found["message"] == words, (
        f"jiter {jiter.__version__} words this error {str(info.value)!r}, not {words!r} at line L "
        "column C: update json_problem and _JITER_WORDS in engine/files/yamlio.py"
    )


def test_every_jiter_phrase_launchtier_translates_is_one_jiter_uses():
    tested = {words for _, words in JITER_CASES}
    assert set(yamlio._JITER_WORDS) <= tested, "a phrase of _JITER_WORDS has no case above"


def test_pyyaml_names_a_tag_it_cannot_construct_as_launchtier_expects():
    loader = yamlio._StrictLoader("!!python/name:os.system x\n")
    try:
        with pytest.raises(yaml.constructor.ConstructorError) as info:
            loader.get_single_data()
    finally:
        loader.dispose()
    assert "could not determine a constructor" in (info.value.problem or ""), (
        f"PyYAML {yaml.__version__} words a tag without a constructor {info.value.problem!r}: "
        "update parse_yaml in engine/files/yamlio.py"
    )
    assert yamlio._tag_of(info.value.problem) == "'tag:yaml.org,2002:python/name:os.system'"
