"""The settings as a commented TOML file (``scipix config init``, ``scipix doctor --fix``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args, get_origin

import annotated_types
import tomli_w
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from scipix.errors import ConfigError
from scipix.settings.model import ENV_PREFIX, Settings, default_settings


def _field_comment(info: FieldInfo) -> str:
    """The description, allowed values and bounds of one setting, for ``scipix config init``."""
    parts = [info.description.rstrip(".")] if info.description else []
    if get_origin(info.annotation) is Literal:
        parts.append("one of: " + ", ".join(str(a) for a in get_args(info.annotation)))
    bounds = []
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            bounds.append(f">= {meta.ge}")
        elif isinstance(meta, annotated_types.Gt):
            bounds.append(f"> {meta.gt}")
        elif isinstance(meta, annotated_types.Le):
            bounds.append(f"<= {meta.le}")
    if bounds:
        parts.append(" and ".join(bounds))
    return "; ".join(parts)


def toml_value(value: object) -> str:
    """One TOML value; arrays stay on one line."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return tomli_w.dumps({"v": value}).split(" = ", 1)[1].rstrip("\n")


def render_toml(settings: Settings, comments: bool = True) -> str:
    """The settings as a TOML document, each key with a comment; unset keys are commented out."""
    lines = [
        "# scipix configuration: every setting, with its default value.",
        f"# Environment variables override this file: {ENV_PREFIX}OCR__BEAM_WIDTH=5.",
    ]
    for name in Settings.model_fields:
        section: BaseModel = getattr(settings, name)
        lines += ["", f"[{name}]"]
        values = section.model_dump(mode="json")
        for key, info in type(section).model_fields.items():
            comment = _field_comment(info) if comments else ""
            if comment:
                lines.append(f"# {comment}")
            value = values[key]
            if value is None:
                lines.append(f"# {key} = (unset)")
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def write_config(path: Path, settings: Settings | None = None) -> None:
    """Write ``settings`` (default: the defaults alone) as a commented TOML file."""
    text = render_toml(settings if settings is not None else default_settings())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot write config file {path}: {reason}", path=str(path)) from exc
