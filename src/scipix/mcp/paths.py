"""Which files the MCP tools may read: only those inside the configured roots (``mcp.roots``,
default the working directory the server started in).

A location is a path (absolute, or relative to the first root) or a ``file://`` URI. It is
resolved with every symlink followed and every ``..`` collapsed *before* it is compared with the
roots, so ``../`` tricks and symlinks that lead out of a root are refused
(:class:`~scipix.errors.PathNotAllowedError`); the resolved path is what is then read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scipix.errors import ImageMissingError, InputError, PathNotAllowedError

#: File name endings ``batch_ocr`` reads from a folder (what the decoder accepts).
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
)


def local_path(location: str) -> Path:
    """The path a location names: a plain path, or a ``file://`` URI (host empty or localhost)."""
    if not location or "\x00" in location:
        raise InputError("give a file path or a file:// URI (an empty path or a NUL byte was sent)")
    if location.startswith("file:"):
        parts = urlsplit(location)
        if parts.netloc not in ("", "localhost"):
            raise InputError(
                f"{location}: only local file:// URIs are read (host {parts.netloc!r} given)"
            )
        return Path(unquote(parts.path))
    scheme = urlsplit(location).scheme
    if len(scheme) > 1:  # one letter would be a Windows drive
        raise InputError(
            f"{location}: give a file path or a file:// URI ({scheme}:// is not read here; "
            "send the image with ocr_base64 instead)"
        )
    return Path(location).expanduser()


@dataclass(frozen=True)
class Roots:
    """The folders the tools may read, resolved once (symlinks in the roots themselves are
    allowed: the resolved folder is the root)."""

    folders: tuple[Path, ...]

    @classmethod
    def of(cls, folders: Sequence[Path], cwd: Path | None = None) -> Roots:
        base = cwd if cwd is not None else Path.cwd()
        chosen = [base / folder for folder in folders] or [base]
        return cls(tuple(folder.resolve() for folder in chosen))

    def describe(self) -> str:
        return ", ".join(str(folder) for folder in self.folders)

    def allowed(self, location: str) -> Path:
        """The resolved path of ``location`` if it lies inside a root (it may not exist)."""
        path = local_path(location)
        if not path.is_absolute():
            path = self.folders[0] / path
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise InputError(f"{location}: cannot be resolved ({exc})") from exc
        if not any(real == root or real.is_relative_to(root) for root in self.folders):
            raise PathNotAllowedError(
                f"{location} is outside the folders this server may read ({self.describe()}); "
                "add its folder to mcp.roots in scipix.toml, or copy the file there",
                path=location,
            )
        return real

    def image_file(self, location: str) -> Path:
        """An existing image file inside the roots (image_missing: no such file, a folder)."""
        return self.file(location, ImageMissingError, "batch_ocr reads folders")

    def file(self, location: str, missing: type[InputError], folder_hint: str = "") -> Path:
        """An existing file inside the roots; ``missing`` (an error class) when there is none."""
        real = self.allowed(location)
        if real.is_dir():
            hint = f" ({folder_hint})" if folder_hint else ""
            raise missing(f"{location} is a folder, not a file{hint}", path=location)
        if not real.is_file():
            raise missing(f"{location}: no such file", path=location)
        return real

    def folder(self, location: str) -> Path:
        """An existing folder inside the roots."""
        real = self.allowed(location)
        if not real.is_dir():
            raise ImageMissingError(f"{location}: no such folder", path=location)
        return real


def folder_images(folder: Path) -> Iterator[Path]:
    """The image files directly in ``folder``, by name (sub-folders are not entered)."""
    with os.scandir(folder) as entries:
        names = sorted(
            entry.name
            for entry in entries
            if Path(entry.name).suffix.lower() in IMAGE_SUFFIXES and not entry.is_dir()
        )
    for name in names:
        yield folder / name
