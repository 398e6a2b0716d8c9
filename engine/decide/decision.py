"""The decision: what the engine says about one item, as data that reporters render."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..rulebook.conditions import SYMBOL, literal


# The version of the JSON that the command line prints. Every JSON document it prints (and every
# line of its JSON Lines) is an object whose first field is ``format_version``; within a version
# fields are only added, and removing or renaming one, or changing what one means, is the next
# version. The decision stored in a ledger is the model alone: it carries no version, so that a
# new version never changes the bytes a recorded decision replays to.
FORMAT_VERSION = 1

_LINE_HEAD = b'{"format_version":%d,' % FORMAT_VERSION


def decision_line(decision_json: bytes) -> bytes:
    """A decision's JSON (``Decision.model_dump_json()``, as bytes) as a line of JSON Lines
    output, a document of its own: with the format version first."""
    return _LINE_HEAD + decision_json[1:]


class _Data(BaseModel):
    # defer_build: a model's validator and serializer are built when first used, not at import
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _new_list() -> list:
    """An empty list (a factory of our own: for the builtin ``list`` pydantic inspects a
    signature, which imports and compiles tokenize's patterns at start-up)."""
    return []


def _empty(v: Any) -> bool:
    return not v


def _none(v: Any) -> bool:
    return v is None


class ConditionCheck(_Data):
    """One condition of a tier, checked against an item: ``actual`` against ``expected``.

    A combined condition (``any``, ``all``, ``not``) has ``op`` set to that word, ``name`` set
    to its readable text, and its parts checked one by one in ``of``.
    """

    name: str
    op: str
    expected: Any = None
    actual: Any = None
    holds: bool
    of: list["ConditionCheck"] = Field(default_factory=_new_list, exclude_if=_empty)


def check_text(c: ConditionCheck) -> str:
    """One checked condition on one line: ``market_impact ≥ 3: has 2 (1 short)``.

    A combined condition reads as its parts, from the side that decides it: the parts of an
    ``all`` that failed (all of them when it holds), joined by "; ", the alternatives of an
    ``any`` that failed, joined by "or" (those that held when it holds), ``not (...)``; a part
    joined otherwise than its whole is put in brackets. Its full text is in ``name``.
    """
    return _shown(c)[0]


def _shown(c: ConditionCheck) -> tuple[str, str]:
    """``check_text`` of ``c``, and the joint between its parts ('' for a single part)."""
    if not c.of:
        extra = _gap(c)
        return (f"{c.name} {SYMBOL.get(c.op, c.op)} {literal(c.expected)}: has {literal(c.actual)}"
                + (f" ({extra})" if extra else "")), ""
    if c.op == "not":
        return f"not ({_shown(c.of[0])[0]})", ""
    if c.op == "any":
        parts, joint = ([p for p in c.of if p.holds] if c.holds else list(c.of)), " or "
    else:
        parts, joint = (list(c.of) if c.holds else [p for p in c.of if not p.holds]), "; "
    shown = [_shown(p) for p in parts]
    if len(shown) == 1:
        return shown[0]
    return joint.join(f"({text})" if inner and inner != joint else text for text, inner in shown), joint


def _gap(c: ConditionCheck) -> str:
    """How far a failed numeric condition is from holding: '1 short', '2 over'."""
    if not isinstance(c.actual, int) or isinstance(c.actual, bool) or not isinstance(c.expected, int):
        return ""
    need = {"gte": c.expected - c.actual, "gt": c.expected + 1 - c.actual,
            "lte": c.actual - c.expected, "lt": c.actual - c.expected + 1}.get(c.op)
    if not need or need <= 0:
        return ""
    return f"{need} short" if c.op in ("gte", "gt") else f"{need} over"


class FiredRule(_Data):
    rule: str
    because: str
    score: dict[str, int]


class TierReason(_Data):
    tier: str
    conditions: list[ConditionCheck]


class HigherTier(_Data):
    tier: str
    failed: list[ConditionCheck]


class ArtifactRef(_Data):
    id: str
    name: str
    owner: str
    category: str
    effort: float | None = Field(default=None, exclude_if=_none)


class RulebookRef(_Data):
    name: str
    version: str
    hash: str


class CapacityNote(_Data):
    """Why a decision is not the tier its rules give: the roadmap's capacity moved it."""

    computed_tier: str
    reason: str


class OverrideNote(_Data):
    """The tier the team committed to ("disagree and commit"), recorded in the ledger as an
    override of the item's decision; it stands while the rules and capacity still give the tier
    it overrode (``from_tier``)."""

    tier: str
    from_tier: str
    reason: str
    by: str
    approved_by: list[str]
    seq: int = Field(description="the override's entry in the ledger")
    at: str


# construct() fills in an instance's state itself: sound while pydantic keeps a model's state in
# exactly these slots (checked once, here); otherwise it leaves the work to model_construct.
_SLOTS = {"__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"}
FILLS_SLOTS = set(getattr(BaseModel, "__slots__", ())) == _SLOTS


def construct(cls: type[BaseModel], fields: dict[str, Any]) -> Any:
    """An instance of ``cls`` (a model without private attributes or extra fields) from fields
    that are already valid (every field given), without validating them again: what
    ``model_construct`` does, without its per-field default handling, which is most of the cost
    of a decision on the hot path. A test checks the result against the validated model."""
    if not FILLS_SLOTS:
        return cls.model_construct(**fields)
    model = object.__new__(cls)
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", set(fields))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


class Decision(_Data):
    item: str
    title: str
    tier: str
    label: str
    kind: str
    scores: dict[str, int]
    fired: list[FiredRule]
    tier_reason: TierReason
    higher_tiers: list[HigherTier]
    artifacts: list[ArtifactRef]
    rulebook: RulebookRef
    capacity: CapacityNote | None = Field(default=None, exclude_if=_none)
    override: OverrideNote | None = Field(default=None, exclude_if=_none)

    @property
    def rules_tier(self) -> str:
        """The tier the rules give, before the roadmap's capacity and any override."""
        if self.capacity is not None:
            return self.capacity.computed_tier
        return self.override.from_tier if self.override is not None else self.tier

    @property
    def set_by(self) -> str:
        """Which stage of the pipeline set the final tier: rules, capacity or override."""
        if self.override is not None:
            return "override"
        return "capacity" if self.capacity is not None else "rules"

    def to_json(self) -> str:
        return self.model_dump_json()


class SignalChange(_Data):
    """A single-signal change that would move an item to another tier."""

    signal: str
    from_: Any = Field(alias="from")
    to: Any
    tier: str
    label: str
    kind: str
    says: str = Field(description="the change in the rulebook's words, the clause after 'if': "
                                  "'it also changed pricing or packaging'")
    scores: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="the scores the change moves, {score: [before, after]}: context")


class ValueChange(_Data):
    """A signal value changed for a what-if (``explain --set``), not in the item file."""

    signal: str
    from_: Any = Field(alias="from")
    to: Any


class Precedent(_Data):
    """An earlier decision like this one: a past launch to compare with in the meeting. The
    precedents are the same final tier first, then the nearest signals
    (:mod:`engine.decide.precedents`)."""

    item: str
    title: str
    tier: str = Field(description="its final tier: the one the team committed to, after any override")
    quarter: str | None = None
    recorded_at: str
    computed_tier: str | None = Field(
        default=None, description="when it was overridden: the tier its rules and capacity gave")
    override_reason: str | None = Field(default=None, description="when it was overridden: why (the latest override's reason)")
    distance: float | None = Field(
        default=None, description="how far its recorded signals are from this item's: 0 the same, "
                                  "1 for each signal wholly different")


class Explanation(_Data):
    """One item in full: its decision, the what-if changes applied, and what would change it."""

    decision: Decision
    changed: list[ValueChange] = Field(default_factory=_new_list)
    what_would_change: list[SignalChange] = Field(default_factory=_new_list)
    precedents: list[Precedent] = Field(default_factory=_new_list)
