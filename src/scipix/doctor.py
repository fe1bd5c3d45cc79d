"""Health checks behind ``scipix doctor``: dependencies, model, config, system, server.

Each check returns a :class:`Check` with ``ok``/``warn``/``fail`` and a fix hint. ``fix=True``
creates what can safely be created (the config file, the data and cache directories).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import tomli_w

from scipix.errors import ConfigError
from scipix.settings import Settings, find_config_file, load_settings, user_config_path

Status = Literal["ok", "warn", "fail"]
GROUPS = ("deps", "model", "config", "system", "server")

#: (import name, distribution name) of what the default install needs.
REQUIRED = [
    ("numpy", "numpy"),
    ("onnxruntime", "onnxruntime"),
    ("cv2", "opencv-python-headless"),
    ("PIL", "pillow"),
    ("typer", "typer"),
    ("rich", "rich"),
    ("pydantic", "pydantic"),
    ("pydantic_settings", "pydantic-settings"),
    ("platformdirs", "platformdirs"),
    ("blake3", "blake3"),
    ("sympy", "sympy"),
]
#: (import name, distribution, extra) of optional features.
OPTIONAL = [
    ("fastapi", "fastapi", "server"),
    ("uvicorn", "uvicorn", "server"),
    ("mcp", "mcp", "mcp"),
    ("usearch", "usearch", "semantic"),
    ("ray", "ray", "ray"),
    ("torch", "torch", "train"),
]


@dataclass(frozen=True)
class Check:
    group: str
    name: str
    status: Status
    message: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def check_deps() -> list[Check]:
    checks = []
    py = sys.version_info
    ok_py = py >= (3, 11)
    checks.append(
        Check(
            "deps",
            "python",
            "ok" if ok_py else "fail",
            f"Python {py.major}.{py.minor}.{py.micro}",
            None if ok_py else "install Python 3.11 or newer",
        )
    )
    for module, dist in REQUIRED:
        try:
            importlib.import_module(module)
            checks.append(Check("deps", dist, "ok", f"{dist} {dist_version(dist)}"))
        except ImportError as exc:
            checks.append(Check("deps", dist, "fail", f"{dist} missing: {exc}", "pip install -e ."))
    for module, dist, extra in OPTIONAL:
        try:
            importlib.import_module(module)
            checks.append(Check("deps", dist, "ok", f"{dist} {dist_version(dist)} ([{extra}])"))
        except ImportError:
            checks.append(
                Check(
                    "deps",
                    dist,
                    "warn",
                    f"{dist} not installed: the [{extra}] features are off",
                    f"pip install 'scipix[{extra}]'",
                )
            )
    try:
        import onnxruntime as ort

        providers = ort.get_available_providers()
        checks.append(Check("deps", "onnxruntime-providers", "ok", ", ".join(providers)))
    except ImportError:
        pass
    return checks


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_dir(settings: Settings | None) -> Path:
    if settings is not None and settings.ocr.model_dir is not None:
        return Path(settings.ocr.model_dir)
    return Path(str(resources.files("scipix") / "weights"))


def check_model(settings: Settings | None) -> list[Check]:
    directory = model_dir(settings)
    files = sorted(directory.glob("*.onnx")) if directory.is_dir() else []
    if not files:
        return [
            Check(
                "model",
                "weights",
                "fail",
                f"no ONNX weights in {directory}",
                "reinstall scipix, or point ocr.model_dir at an exported model",
            )
        ]
    checks = []
    try:
        import onnxruntime as ort
    except ImportError:
        return [Check("model", "weights", "fail", "onnxruntime missing", "pip install -e .")]
    for path in files:
        digest = sha256_of(path)[:16]
        try:
            ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            checks.append(
                Check(
                    "model",
                    path.name,
                    "fail",
                    f"cannot load {path} (sha256 {digest}…): {exc}",
                    "reinstall scipix or re-export the model",
                )
            )
            continue
        size = path.stat().st_size / 1e6
        checks.append(Check("model", path.name, "ok", f"loads; {size:.1f} MB; sha256 {digest}…"))
    return checks


def check_config(config: Path | None) -> tuple[list[Check], Settings | None]:
    try:
        source = find_config_file(config)
        settings = load_settings(config)
    except ConfigError as exc:
        return [
            Check(
                "config",
                "config",
                "fail",
                exc.message,
                "fix the file or run `scipix config init --force`",
            )
        ], None
    if source is None:
        return [
            Check(
                "config",
                "config",
                "warn",
                "no config file; defaults and SCIPIX_* environment in use",
                "scipix doctor --fix (or scipix config init) writes one",
            )
        ], settings
    return [Check("config", "config", "ok", f"{source} is valid")], settings


def writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory):
            pass
        return True
    except OSError:
        return False


def check_system(settings: Settings | None, fix: bool) -> list[Check]:
    settings = settings or Settings()
    checks = []
    for name, directory in (
        ("data_dir", settings.runtime.data_dir),
        ("cache_dir", settings.runtime.cache_dir),
    ):
        exists = directory.is_dir()
        if not exists and not fix:
            checks.append(
                Check(
                    "system", name, "warn", f"{directory} does not exist yet", "scipix doctor --fix"
                )
            )
        elif writable(directory):
            checks.append(Check("system", name, "ok", f"{directory} is writable"))
        else:
            checks.append(
                Check(
                    "system",
                    name,
                    "fail",
                    f"{directory} is not writable",
                    f"set runtime.{name} to a writable directory",
                )
            )
    missing = [tool for tool in ("pdflatex", "dvipng") if shutil.which(tool) is None]
    if missing:
        checks.append(
            Check(
                "system",
                "texlive",
                "warn",
                f"{', '.join(missing)} not found: training renders with mathtext only",
                "apt-get install texlive-latex-extra texlive-fonts-extra dvipng",
            )
        )
    else:
        checks.append(Check("system", "texlive", "ok", "pdflatex and dvipng found"))
    checks.append(Check("system", "cpus", "ok", f"{os.cpu_count()} CPU cores"))
    return checks


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_server(settings: Settings | None) -> list[Check]:
    server = (settings or Settings()).server
    if port_free(server.host, server.port):
        return [Check("server", "port", "ok", f"{server.host}:{server.port} is free")]
    return [
        Check(
            "server",
            "port",
            "warn",
            f"{server.host}:{server.port} is in use",
            "stop the other process or set server.port",
        )
    ]


def write_default_config(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(Settings().model_dump(mode="json", exclude_none=True)))


def run_checks(
    config: Path | None = None, only: str | None = None, fix: bool = False
) -> list[Check]:
    """Run the checks of every group (or only one), fixing what ``fix`` allows."""
    if fix and config is None and find_config_file(None) is None:
        write_default_config(user_config_path())
    config_checks, settings = check_config(config)
    runners: dict[str, Callable[[], list[Check]]] = {
        "deps": check_deps,
        "model": lambda: check_model(settings),
        "config": lambda: config_checks,
        "system": lambda: check_system(settings, fix),
        "server": lambda: check_server(settings),
    }
    groups = [only] if only else list(GROUPS)
    return [check for group in groups for check in runners[group]()]
