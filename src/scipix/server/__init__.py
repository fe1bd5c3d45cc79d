"""The Mathpix-v3-compatible REST server and the web page (``scipix serve``).

Needs the ``server`` extra: ``pip install 'scipix[server]'``. Build the app with
:func:`scipix.server.app.create_app`.
"""
