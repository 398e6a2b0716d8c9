"""The JSON Schemas of launchtier's formats, each made from its model by pydantic: a decision as
the command line prints it, an item file of a rulebook, a rulebook file. Each names the format
version it describes in its ``$id`` and ``title``, so a script can pin the one it was written for.

The models are imported when a schema is made, so that the names of the schemas cost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .rulebook.model import Rulebook

SCHEMAS = ("decision", "item", "rulebook")
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _open(schema: Any) -> Any:
    """``schema`` without ``additionalProperties: false`` anywhere: an output's schema allows the
    fields that a later launchtier of the same format version adds."""
    if isinstance(schema, dict):
        return {k: _open(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_open(v) for v in schema]
    return schema


def _decision(book: Rulebook | None) -> tuple[str, dict[str, Any]]:
    from .decide.decision import FORMAT_VERSION, Decision

    body = _open(Decision.model_json_schema(mode="serialization"))
    # not required: a decision that is a document of its own (a line of JSON Lines) states its
    # version; one inside another document (explain's, review's) is of that document's version
    version = {"const": FORMAT_VERSION, "description": "the format version of the JSON, where the decision is a "
                                                      "document of its own (a line of classify --format jsonl)"}
    body["properties"] = {"format_version": version, **body["properties"]}
    return "a decision", body


def _item(book: Rulebook | None) -> tuple[str, dict[str, Any]]:
    from .items.model import item_file_schema

    if book is None:
        raise ValueError("the item schema is a rulebook's: give the rulebook")
    return f"an item file of rulebook {book.name} {book.version}", item_file_schema(book)


def _rulebook(book: Rulebook | None) -> tuple[str, dict[str, Any]]:
    from .rulebook.model import Rulebook

    return "a rulebook file", Rulebook.model_json_schema()


_BODIES = {"decision": _decision, "item": _item, "rulebook": _rulebook}


def json_schema(name: str, book: Rulebook | None = None) -> dict[str, Any]:
    """The JSON Schema of the format ``name`` (one of SCHEMAS); ``item`` needs the rulebook whose
    questions an item answers."""
    from .decide.decision import FORMAT_VERSION

    what, body = _BODIES[name](book)
    body.pop("title", None)
    return {"$schema": DRAFT, "$id": f"urn:launchtier:format:{FORMAT_VERSION}:{name}",
            "title": f"launchtier format version {FORMAT_VERSION}: {what}", **body}
