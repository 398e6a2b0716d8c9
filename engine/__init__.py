"""launchtier's engine: rulebooks, items, and the decisions that classify items into launch tiers.

Nothing here knows about the command line; everything durable-rules-specific lives in
:mod:`launchtier.engine.durable_adapter`.
"""

from .classify import ENGINES, Classifier
from .decision import Decision, SignalChange
from .errors import EngineUnavailable, InputError, ItemError, LaunchtierError, Problem, RulebookError
from .items import ItemBase, ItemReader, item_file_schema, item_model
from .rulebook import Rulebook, default_rulebook_path, load_rulebook, rulebook_from_data

__all__ = [
    "ENGINES",
    "Classifier",
    "Decision",
    "EngineUnavailable",
    "InputError",
    "ItemBase",
    "ItemError",
    "ItemReader",
    "LaunchtierError",
    "Problem",
    "Rulebook",
    "RulebookError",
    "SignalChange",
    "default_rulebook_path",
    "item_file_schema",
    "item_model",
    "load_rulebook",
    "rulebook_from_data",
]
