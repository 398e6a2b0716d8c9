"""The rulebooks shipped with launchtier (package data): ``default.yaml`` and its rule tests."""

from importlib.resources import files

DEFAULT = files(__name__) / "default.yaml"
