"""Every key that ``scipix config init`` writes is read by product code: no setting that does
nothing is offered. The defaults that settings share with per-call options are defined once."""

from __future__ import annotations

import ast
import dataclasses
from functools import cache
from pathlib import Path

import pytest

import scipix
from scipix.errors import ConfigError
from scipix.imaging.preprocess import PreprocessConfig
from scipix.recognition.beam import BeamConfig
from scipix.schema import PREPROCESS_DEFAULTS, PreprocessSteps, PreprocessSwitches
from scipix.settings import default_settings, load_settings, section_models
from scipix.settings.source import RENAMED_SECTIONS

from .conftest import Home

PACKAGE = Path(scipix.__file__).parent

#: Keys read generically, not by name (so the name need only be read somewhere downstream):
#: ``Scipix._build_agents`` passes every pre-processing switch to ``PreprocessConfig`` at once
#: (``model_dump(include=PreprocessSteps fields)``), and ``imaging/preprocess.py`` reads each.
GENERIC = {("preprocessing", name) for name in PreprocessSteps.model_fields}


@cache
def product_modules() -> dict[Path, tuple[frozenset[str], frozenset[str]]]:
    """Per module outside ``settings/``: the attribute names it reads and the names it uses."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "settings":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        found[path] = (frozenset(attrs), frozenset(names))
    return found


def readers(section: str, key: str) -> list[Path]:
    """The modules that read ``.key`` and also reach the section (``settings.ocr``, or a
    parameter typed ``ServerSettings``): the same name on an unrelated object does not count."""
    model = section_models()[section]
    found = []
    for path, (attrs, names) in product_modules().items():
        generic = (section, key) in GENERIC
        if key in attrs and (generic or section in attrs or model.__name__ in names):
            found.append(path)
    return found


SETTING_KEYS = [
    f"{section}.{key}" for section, model in section_models().items() for key in model.model_fields
]


@pytest.mark.parametrize("dotted", SETTING_KEYS)
def test_every_setting_is_read_by_the_code(dotted: str) -> None:
    section, key = dotted.split(".")
    assert readers(section, key), (
        f"setting '{dotted}' is offered by `scipix config init` but no code reads it: "
        "wire it where a user expects it to act, or remove it"
    )


def test_a_name_read_on_another_object_does_not_count() -> None:
    assert readers("performance", "workers")
    # ``.engine`` is read (training/render.py), but not from the performance section
    assert any("engine" in attrs for attrs, _ in product_modules().values())
    assert readers("performance", "engine") == []


def test_sections_for_features_not_built_are_absent() -> None:
    assert set(section_models()) == {
        "runtime",
        "ocr",
        "preprocessing",
        "performance",
        "documents",
        "server",
        "ink",
        "mcp",
        "learning",
        "distributed",
        "memory",
    }
    assert not set(section_models()) & set(RENAMED_SECTIONS)
    assert set(RENAMED_SECTIONS.values()) <= set(section_models())  # each points at a real one


def test_an_old_file_with_a_renamed_section_is_told_its_new_name(home: Home) -> None:
    path = home.root / "old.toml"
    path.write_text("[ocr]\nbeam_width = 3\n\n[agentdb]\nenabled = true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.message == (
        f"{path}:4: section 'agentdb' is now '[memory]' (see `scipix config show`; its keys "
        "differ); move its settings there"
    )
    path.write_text("[agentdbb]\n", encoding="utf-8")  # other unknown keys: as before
    with pytest.raises(ConfigError, match="unknown key 'agentdbb'; valid: runtime, ocr"):
        load_settings(path)


def test_an_old_variable_for_a_renamed_section_is_told_its_new_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCIPIX_REASONINGBANK__CALIBRATE", "true")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.message == (
        "environment variable SCIPIX_REASONINGBANK__CALIBRATE: section 'reasoningbank' is now "
        "'[learning]' (see `scipix config show`; its keys differ); use SCIPIX_LEARNING__…"
    )


def test_preprocessing_switches_are_defined_once() -> None:
    switches = set(PreprocessSteps.model_fields)
    assert set(PreprocessSwitches.model_fields) == switches  # per call: the same names
    config = {f.name for f in dataclasses.fields(PreprocessConfig)}
    assert switches <= config
    defaults = PREPROCESS_DEFAULTS.model_dump()
    assert default_settings().preprocessing.model_dump(include=switches) == defaults
    assert {name: getattr(PreprocessConfig(), name) for name in switches} == defaults


def test_beam_defaults_are_defined_once() -> None:
    ocr, beam = default_settings().ocr, BeamConfig()
    assert (ocr.beam_width, ocr.n_best, ocr.max_tokens, ocr.length_penalty) == (
        beam.beam_width,
        beam.n_best,
        beam.max_tokens,
        beam.length_penalty,
    )
