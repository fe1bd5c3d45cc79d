"""scipix: open, self-hosted scientific OCR (images of mathematics to LaTeX and more)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scipix.service import Scipix

try:
    __version__ = version("scipix")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["Scipix", "__version__"]


def __getattr__(name: str) -> Any:
    """``scipix.Scipix`` is imported on first use, so ``import scipix`` stays light."""
    if name == "Scipix":
        from scipix.service import Scipix

        return Scipix
    raise AttributeError(f"module 'scipix' has no attribute {name!r}")
