"""launchtier's engine: rulebooks, items, and the decisions that classify items into launch tiers.

Nothing here knows about the command line; everything durable-rules-specific lives in
:mod:`launchtier.engine.match.durable`. Names are loaded on first use (PEP 562), so that a
command that needs only the exceptions does not pay for importing pydantic models.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ENGINES": "decide.classify", "Classifier": "decide.classify",
    "Decision": "decide.decision", "FORMAT_VERSION": "decide.decision", "SignalChange": "decide.decision",
    "EngineUnavailable": "errors", "InputError": "errors", "ItemError": "errors",
    "LaunchtierError": "errors", "Problem": "errors", "RulebookError": "errors",
    "ItemBase": "items.model", "ItemReader": "items.model", "item_file_schema": "items.model", "item_model": "items.model",
    "Rulebook": "rulebook.model", "default_rulebook_path": "rulebook.model", "load_rulebook": "rulebook.model",
    "rulebook_from_data": "rulebook.model",
    "SCHEMAS": "schemas", "json_schema": "schemas",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'launchtier.engine' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from .decide.classify import ENGINES, Classifier  # noqa: F401
    from .decide.decision import FORMAT_VERSION, Decision, SignalChange  # noqa: F401
    from .errors import EngineUnavailable, InputError, ItemError, LaunchtierError, Problem, RulebookError  # noqa: F401
    from .items.model import ItemBase, ItemReader, item_file_schema, item_model  # noqa: F401
    from .rulebook.model import Rulebook, default_rulebook_path, load_rulebook, rulebook_from_data  # noqa: F401
    from .schemas import SCHEMAS, json_schema  # noqa: F401
