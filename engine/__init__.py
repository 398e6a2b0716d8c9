"""launchtier's engine: rulebooks, items, and the decisions that classify items into launch tiers.

Nothing here knows about the command line; everything durable-rules-specific lives in
:mod:`launchtier.engine.durable_adapter`. Names are loaded on first use (PEP 562), so that a
command that needs only the exceptions does not pay for importing pydantic models.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ENGINES": "classify", "Classifier": "classify",
    "Decision": "decision", "SignalChange": "decision",
    "EngineUnavailable": "errors", "InputError": "errors", "ItemError": "errors",
    "LaunchtierError": "errors", "Problem": "errors", "RulebookError": "errors",
    "ItemBase": "items", "ItemReader": "items", "item_file_schema": "items", "item_model": "items",
    "Rulebook": "rulebook", "default_rulebook_path": "rulebook", "load_rulebook": "rulebook",
    "rulebook_from_data": "rulebook",
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
    from .classify import ENGINES, Classifier  # noqa: F401
    from .decision import Decision, SignalChange  # noqa: F401
    from .errors import EngineUnavailable, InputError, ItemError, LaunchtierError, Problem, RulebookError  # noqa: F401
    from .items import ItemBase, ItemReader, item_file_schema, item_model  # noqa: F401
    from .rulebook import Rulebook, default_rulebook_path, load_rulebook, rulebook_from_data  # noqa: F401
