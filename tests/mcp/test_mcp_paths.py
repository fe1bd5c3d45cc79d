"""Which files the MCP tools may read: only inside the roots, after every symlink and ``..``."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp_support import Images

from scipix.errors import ImageMissingError, InputError, PathNotAllowedError
from scipix.mcp.paths import Roots, folder_images, local_path


def test_locations_are_paths_or_local_file_uris(images: Images) -> None:
    assert local_path("file:///tmp/a%20b.png") == Path("/tmp/a b.png")
    assert local_path("file://localhost/tmp/x.png") == Path("/tmp/x.png")
    for bad in ("file://server/share/x.png", "https://example.com/x.png", "", "a\x00b"):
        with pytest.raises(InputError):
            local_path(bad)


def test_only_files_inside_a_root_are_read(images: Images, tmp_path: Path) -> None:
    roots = Roots.of([images.root])
    assert roots.image_file("quadratic.png") == images.root / "quadratic.png"
    assert roots.image_file(str(images.root / "scans/../page.png")) == images.root / "page.png"
    for outside in ("../outside/secret.png", str(images.outside), "escape.png", "/etc/hosts"):
        with pytest.raises(PathNotAllowedError):
            roots.image_file(outside)
    with pytest.raises(ImageMissingError, match="is a folder"):
        roots.image_file("scans")
    # a symlink *to* a root is resolved once: the folder it names is the root
    link = tmp_path / "link"
    link.symlink_to(images.root)
    assert Roots.of([link]).image_file("page.png") == images.root / "page.png"


def test_roots_default_to_the_working_directory(images: Images) -> None:
    assert Roots.of([], cwd=images.root).folders == (images.root,)
    assert Roots.of([Path("scans")], cwd=images.root).folders == (images.root / "scans",)


def test_a_folder_lists_its_images_by_name(images: Images) -> None:
    assert [p.name for p in folder_images(images.root / "scans")] == ["q1.png", "q2.png"]
