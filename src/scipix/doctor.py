"""Health checks behind ``scipix doctor``: dependencies, model, config, system, server.

Each check gives ``ok``, ``warn`` or ``fail`` with a message and, unless ok, a fix hint.
``fix=True`` creates what can safely be created: the config file (where scipix would look for it
first) and the data and cache directories; it never overwrites an existing file.
The dependency checks read scipix's own installed metadata, so they follow ``pyproject.toml``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from scipix.errors import ConfigError
from scipix.settings import (
    Settings,
    config_target,
    default_settings,
    find_config_source,
    load_settings,
    write_config,
)

if TYPE_CHECKING:
    from packaging.requirements import Requirement

Status = Literal["ok", "warn", "fail"]
GROUPS = ("deps", "model", "config", "system", "server")
#: Extras whose absence is not worth a warning (tools for working on scipix itself).
QUIET_EXTRAS = frozenset({"dev"})
TEX_TOOLS = ("latex", "pdflatex", "dvipng")
MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Check:
    """One result: ``fix`` says what to do when the status is not ok."""

    group: str
    name: str
    status: Status
    message: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


# --- deps -------------------------------------------------------------------------------------


def check_python(requires: str | None) -> Check:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    here = Version(".".join(str(n) for n in sys.version_info[:3]))
    spec = SpecifierSet(requires or ">=3.11")
    if here in spec:
        return Check("deps", "python", "ok", f"Python {here} ({sys.executable})")
    return Check("deps", "python", "fail", f"Python {here} does not satisfy {spec}", f"use {spec}")


@functools.cache
def modules_by_distribution() -> dict[str, list[str]]:
    """Installed distributions (canonical names) and the top-level modules each provides."""
    from packaging.utils import canonicalize_name

    found: dict[str, list[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            found.setdefault(canonicalize_name(dist), []).append(module)
    return found


def import_names(dist: str) -> list[str]:
    """The top-level modules a distribution installs, its own name first."""
    from packaging.utils import canonicalize_name

    modules = modules_by_distribution().get(canonicalize_name(dist), [])
    names = [module for module in modules if not module.startswith("_")]
    own = dist.replace("-", "_").lower()
    return sorted(names, key=lambda name: (name.lower() != own, name))


@functools.cache
def source_checkout() -> str | None:
    """The folder scipix is installed from in editable mode (``pip install -e``), if it is."""
    try:
        text = importlib.metadata.distribution("scipix").read_text("direct_url.json")
        info = json.loads(text or "{}")
    except (importlib.metadata.PackageNotFoundError, json.JSONDecodeError):
        return None
    url = str(info.get("url", ""))
    editable = bool(info.get("dir_info", {}).get("editable"))
    return url.removeprefix("file://") if editable and url.startswith("file://") else None


def install_hint(extra: str | None = None) -> str:
    """The exact command that installs scipix (with ``extra``) the way it is installed here."""
    suffix = f"[{extra}]" if extra else ""
    checkout = source_checkout()
    if checkout is not None:
        return f"pip install -e '{checkout}{suffix}'"
    return f"pip install 'scipix{suffix}'"


def check_requirement(req: Requirement, extra: str | None) -> Check:
    """Is ``req`` installed, new enough and (for the default install) importable?"""
    from packaging.version import InvalidVersion, Version

    missing: Status = "fail" if extra is None else "warn"
    where = "" if extra is None else f" [{extra}]"
    install = install_hint(extra)
    try:
        installed = importlib.metadata.version(req.name)
    except importlib.metadata.PackageNotFoundError:
        what = "needed" if extra is None else f"the [{extra}] features are off"
        return Check("deps", req.name, missing, f"{req.name} is not installed: {what}", install)
    try:
        ok_version = req.specifier.contains(Version(installed), prereleases=True)
    except InvalidVersion:
        ok_version = True
    if not ok_version:
        message = f"{req.name} {installed} does not satisfy {req.specifier}{where}"
        return Check("deps", req.name, missing, message, f"pip install '{req}'")
    if extra is None:
        for module in import_names(req.name)[:1]:
            try:
                importlib.import_module(module)
            except Exception as exc:  # a broken binary wheel raises anything (OSError, ...)
                message = f"{req.name} {installed} is installed but `import {module}` fails: {exc}"
                return Check(
                    "deps", req.name, "fail", message, f"pip install --force-reinstall '{req}'"
                )
    return Check("deps", req.name, "ok", f"{req.name} {installed}{where}")


def requirements() -> tuple[str | None, list[tuple[Requirement, str | None]]]:
    """scipix's ``Requires-Python`` and each requirement with its extra (None = default)."""
    from packaging.requirements import InvalidRequirement, Requirement

    meta = importlib.metadata.metadata("scipix")
    extras = meta.get_all("Provides-Extra") or []
    found: list[tuple[Requirement, str | None]] = []
    for line in importlib.metadata.requires("scipix") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            found.append((req, None))
            continue
        extra = next((e for e in extras if req.marker.evaluate({"extra": e})), None)
        if extra is not None and extra not in QUIET_EXTRAS:
            found.append((req, extra))
    requires_python = (meta.get_all("Requires-Python") or [None])[0]
    return requires_python, found


def check_providers() -> Check:
    try:
        import onnxruntime as ort
    except ImportError:
        return Check("deps", "onnxruntime-providers", "fail", "onnxruntime missing", install_hint())
    providers = list(ort.get_available_providers())
    status: Status = "ok" if "CPUExecutionProvider" in providers else "fail"
    fix = None if status == "ok" else "pip install --force-reinstall onnxruntime"
    return Check("deps", "onnxruntime-providers", status, ", ".join(providers), fix)


def check_deps() -> list[Check]:
    try:
        requires_python, reqs = requirements()
    except importlib.metadata.PackageNotFoundError:
        return [
            check_python(None),
            Check("deps", "scipix", "fail", "scipix is not installed", install_hint()),
        ]
    scipix = Check("deps", "scipix", "ok", f"scipix {importlib.metadata.version('scipix')}")
    checks = [check_python(requires_python), scipix]
    checks += [check_requirement(req, extra) for req, extra in reqs]
    checks.append(check_providers())
    return checks


# --- model ------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def packaged_weights() -> Path:
    return Path(str(resources.files("scipix") / "weights"))


def check_onnx_file(path: Path) -> Check:
    """Does one ONNX file load in ONNX Runtime? Its size, sha256 and model version."""
    import onnxruntime as ort

    digest = sha256_of(path)
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check(
            "model",
            path.name,
            "fail",
            f"{path} does not load (sha256 {digest}): {reason}",
            "re-export the model, or point ocr.model_dir at a good one",
        )
    meta = session.get_modelmeta()
    custom = meta.custom_metadata_map
    version = model_version(custom) or custom.get("model_version") or str(meta.version)
    size = path.stat().st_size / 1e6
    message = f"loads; version {version}; {size:.1f} MB; sha256 {digest}"
    return Check("model", path.name, "ok", message)


def model_version(custom: dict[str, str]) -> str | None:
    """The ``version`` of scipix's own metadata (ONNX's model_version field is left unset)."""
    try:
        version = json.loads(custom.get("scipix", "{}")).get("version")
    except (ValueError, AttributeError):
        return None
    return str(version) if version else None


def check_recognizer(settings: Settings) -> Check | None:
    """Load the formula recognizer with its own loader (``FormulaRecognizer.load``), which also
    checks the metadata the model must carry; None while ``scipix.recognition`` has no loader."""
    if importlib.util.find_spec("scipix.recognition") is None:
        return None
    try:
        module = importlib.import_module("scipix.recognition")
    except Exception as exc:  # present but broken: a missing dependency, a bad install
        message = f"scipix.recognition does not import: {type(exc).__name__}: {exc}"
        return Check("model", "recognizer", "fail", message, install_hint())
    load = getattr(getattr(module, "FormulaRecognizer", None), "load", None)
    if not callable(load):
        return None
    try:
        recognizer = load(settings.ocr.model_dir, threads=settings.runtime.threads)
    except Exception as exc:  # a ModelError, or anything a broken model makes the loader raise
        return Check(
            "model",
            "recognizer",
            "fail",
            f"the formula recognizer does not load: {exc}",
            "reinstall scipix, or point ocr.model_dir at a model exported by scipix train",
        )
    version = getattr(recognizer, "version", "unknown")
    return Check("model", "recognizer", "ok", f"the formula recognizer loads (model {version})")


def check_model(settings: Settings) -> list[Check]:
    configured = settings.ocr.model_dir
    directory = configured if configured is not None else packaged_weights()
    if configured is not None and not directory.is_dir():
        message = f"ocr.model_dir {directory} is not a directory"
        return [Check("model", "weights", "fail", message, "set ocr.model_dir to a model's folder")]
    files = sorted(directory.glob("*.onnx")) if directory.is_dir() else []
    if not files:
        fix = "reinstall scipix, or point ocr.model_dir at an exported model"
        return [Check("model", "weights", "fail", f"no ONNX weights in {directory}", fix)]
    if importlib.util.find_spec("onnxruntime") is None:
        return [Check("model", "weights", "fail", "onnxruntime missing", install_hint())]
    checks = [check_onnx_file(path) for path in files]
    recognizer = check_recognizer(settings)
    return checks + ([recognizer] if recognizer is not None else [])


# --- config -----------------------------------------------------------------------------------


def fix_config(config: Path | None) -> Path | None:
    """Write a default config where scipix looks first, unless one exists; the path written."""
    try:
        if find_config_source(config) is not None:
            return None
    except ConfigError:
        pass  # a --config or $SCIPIX_CONFIG that does not exist yet: create it
    target = config_target(config, user=True)
    if target.exists():
        return None
    write_config(target)
    return target


def check_config(config: Path | None, fix: bool) -> tuple[list[Check], Settings]:
    written = fix_config(config) if fix else None
    try:
        source = find_config_source(config)
        settings = load_settings(config)
    except ConfigError as exc:
        if "env" in exc.detail:
            fix_hint = f"correct or unset {exc.detail['env']}"
        else:
            fix_hint = "correct the file named, or rewrite it: scipix config init --force"
        return [Check("config", "config", "fail", exc.message, fix_hint)], default_settings()
    if source is None:
        return [
            Check(
                "config",
                "config",
                "warn",
                "no config file; defaults and SCIPIX_* variables in use",
                "scipix doctor --fix (or scipix config init) writes one",
            )
        ], settings
    note = "written now and " if written is not None else ""
    message = f"{source.path} ({source.origin}) is {note}valid"
    return [Check("config", "config", "ok", message)], settings


# --- system -----------------------------------------------------------------------------------


def writable(directory: Path) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=directory):
            pass
        return True
    except OSError:
        return False


def check_directory(name: str, directory: Path, fix: bool) -> Check:
    if not directory.exists() and fix:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = f"cannot create {directory}: {exc.strerror or exc}"
            return Check("system", name, "fail", message, f"set runtime.{name} to a writable path")
    if not directory.exists():
        return Check(
            "system", name, "warn", f"{directory} does not exist yet", "scipix doctor --fix"
        )
    if not directory.is_dir() or not writable(directory):
        return Check(
            "system",
            name,
            "fail",
            f"{directory} is not a writable directory",
            f"set runtime.{name} to a writable directory",
        )
    free = shutil.disk_usage(directory).free
    if free < MIN_FREE_BYTES:
        message = f"{directory} is writable but only {free / 1e6:.0f} MB are free"
        return Check("system", name, "warn", message, "free some disk space")
    return Check("system", name, "ok", f"{directory} is writable ({free / 1e9:.0f} GB free)")


def check_tex() -> Check:
    missing = [tool for tool in TEX_TOOLS if shutil.which(tool) is None]
    if missing:
        return Check(
            "system",
            "texlive",
            "warn",
            f"{', '.join(missing)} not found: training renders with matplotlib mathtext only",
            "./scripts/setup.sh (apt-get install texlive-latex-extra texlive-fonts-extra dvipng)",
        )
    return Check("system", "texlive", "ok", f"{', '.join(TEX_TOOLS)} found")


def check_system(settings: Settings, fix: bool) -> list[Check]:
    runtime = settings.runtime
    return [
        check_directory("data_dir", runtime.data_dir, fix),
        check_directory("cache_dir", runtime.cache_dir, fix),
        check_tex(),
        Check("system", "cpus", "ok", f"{os.cpu_count()} CPU cores"),
    ]


# --- server -----------------------------------------------------------------------------------


def port_free(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


def check_ortweb() -> Check:
    """onnxruntime-web, which the web page's "recognize in this browser" switch needs."""
    from scipix.recognition.portable import ORT_INSTALL, ortweb_dir, ortweb_missing

    missing = ortweb_missing()
    if missing:
        message = f"onnxruntime-web is not in {ortweb_dir()}: in-browser recognition is off"
        return Check("server", "ortweb", "warn", message, ORT_INSTALL)
    return Check("server", "ortweb", "ok", f"onnxruntime-web found in {ortweb_dir()}")


def check_server(settings: Settings) -> list[Check]:
    server = settings.server
    if port_free(server.host, server.port):
        return [Check("server", "port", "ok", f"{server.host}:{server.port} is free")]
    return [
        Check(
            "server",
            "port",
            "warn",
            f"{server.host}:{server.port} is in use or cannot be bound",
            "stop the other process, or set server.port (scipix serve --port)",
        )
    ]


# --- all --------------------------------------------------------------------------------------


def run_checks(
    config: Path | None = None, only: Iterable[str] | None = None, fix: bool = False
) -> list[Check]:
    """Run the checks of every group (or of ``only``), fixing what ``fix`` allows."""
    groups = [g for g in GROUPS if only is None or g in set(only)]
    config_checks, settings = check_config(config, fix and "config" in groups)
    runners: dict[str, Callable[[], list[Check]]] = {
        "deps": check_deps,
        "model": lambda: check_model(settings),
        "config": lambda: config_checks,
        "system": lambda: check_system(settings, fix),
        "server": lambda: [*check_server(settings), check_ortweb()],
    }
    return [check for group in groups for check in runners[group]()]
