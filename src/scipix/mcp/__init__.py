"""``scipix mcp``: scipix as a Model Context Protocol server for AI assistants (Claude Desktop,
IDE agents), on the official ``mcp`` SDK.

- :mod:`scipix.mcp.server`: the tools, resources and prompt (``build_server``);
- :mod:`scipix.mcp.tools`: the work behind them, over the one :class:`~scipix.service.Scipix`;
- :mod:`scipix.mcp.paths`: which files the tools may read (``mcp.roots``);
- :mod:`scipix.mcp.http`: the streamable HTTP transport, with the API keys of ``scipix serve``.

Needs the extra: ``pip install 'scipix[mcp]'``.
"""
