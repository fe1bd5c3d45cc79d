"""Session fixtures of the MCP tests: the image folder, one :class:`Scipix` and one in-process
server built over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp.server.mcpserver import MCPServer
from mcp_support import Images, make_images

from scipix.mcp.server import build_server
from scipix.mcp.tools import Toolbox
from scipix.service import Scipix
from scipix.settings import Settings, default_settings
from scipix.settings.model import McpSettings, RuntimeSettings


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    return make_images(tmp_path_factory.mktemp("mcp"))


@pytest.fixture(scope="session")
def mcp_settings(images: Images) -> Settings:
    """The root, and data (memory, corrections) in the session's own folder: session fixtures
    are built before the per-test isolation, so nothing may default to the user's folders."""
    home = images.root.parent
    runtime = RuntimeSettings(data_dir=home / "data", cache_dir=home / "cache")
    update = {"mcp": McpSettings(roots=[images.root]), "runtime": runtime}
    return default_settings().model_copy(update=update)


@pytest.fixture(scope="session")
def service(mcp_settings: Settings) -> Iterator[Scipix]:
    with Scipix(mcp_settings) as sp:
        yield sp


@pytest.fixture(scope="session")
def toolbox(service: Scipix, mcp_settings: Settings) -> Toolbox:
    return Toolbox(service, mcp_settings)


@pytest.fixture(scope="session")
def server(toolbox: Toolbox) -> MCPServer:
    return build_server(toolbox)
