"""README's MCP client config, as written: its command starts a real stdio server subprocess,
which the SDK's stdio client lists and calls every tool of."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters
from mcp_scenario import every_tool
from mcp_support import REPO, Images, with_client

PLACEHOLDER = "/path/to/your/images"


def readme_config() -> dict[str, Any]:
    """The ``scipix`` entry of the JSON snippet in README's MCP section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## AI assistants: `scipix mcp`", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```json\n(.*?)\n```", section, re.S)
    assert snippet, "README's MCP section has no ```json snippet"
    entry: dict[str, Any] = json.loads(snippet.group(1))["mcpServers"]["scipix"]
    return entry


def test_the_readme_snippet_is_a_working_client_config(images: Images, tmp_path: Path) -> None:
    config = readme_config()
    assert PLACEHOLDER in config["env"]["SCIPIX_MCP__ROOTS"]
    # the command as a client finds it: on PATH, where this interpreter's scripts are
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    command = shutil.which(config["command"], path=search)
    assert command, f"{config['command']} is not installed next to {sys.executable}"
    env = {k: v.replace(PLACEHOLDER, str(images.root)) for k, v in config["env"].items()}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[name] = os.environ[name]  # the test's own empty folders, not the developer's
    params = StdioServerParameters(command=command, args=config["args"], env=env, cwd=tmp_path)
    with_client(params, lambda client: every_tool(client, images))
