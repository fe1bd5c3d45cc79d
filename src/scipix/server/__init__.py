"""The Mathpix-v3-compatible REST server and the web page (``scipix serve``).

Needs the ``server`` extra: ``pip install 'scipix[server]'``. Build the app with
:func:`scipix.server.app.create_app`; run it with ``scipix serve``::

    scipix keys create --name me --json      # {"app_id": "me_1a2b3c4d", "app_key": "..."}
    scipix serve --port 8000                  # http://127.0.0.1:8000/ is the web page
    curl -X POST http://127.0.0.1:8000/v3/text -H "app_id: $ID" -H "app_key: $KEY" \\
         -H "Content-Type: application/json" \\
         --data '{"src": "data:image/png;base64,...", "formats": ["text", "data"],
                  "data_options": {"include_latex": true, "include_mathml": true}}'
    curl -X POST http://127.0.0.1:8000/v3/text -H "app_id: $ID" -H "app_key: $KEY" \\
         --form file=@formula.png --form 'options_json={"math_inline_delimiters": ["$", "$"]}'

Mathpix clients work unchanged when pointed here (``MathpixClient(app_id, app_key,
api_url="http://127.0.0.1:8000")`` in mpxpy). Routes: ``/v3/text``, ``/v3/latex``,
``/v3/batch`` (+ ``GET /v3/batch/{id}``), ``/v3/ocr-results``, ``/v3/ocr-usage``,
``/v3/app-tokens`` (+ ``GET``/``DELETE``), ``/v3/corrections`` (ours), ``/health``,
``/openapi.json``. A reverse proxy must pass headers with underscores (nginx:
``underscores_in_headers on``), or ``app_id``/``app_key`` never arrive.

Modules: ``app`` (factory, lifespan), ``routes/`` (one module per route group), ``intake``
(body forms and size limits), ``fetch`` (the guarded URL download), ``options``/``legacy``
(request options), ``auth``/``keys`` (credentials), ``ledger`` (rate windows, usage, history,
corrections), ``batch``, ``store`` (the SQLite file), ``envelope`` (errors as Mathpix returns
them), ``static/`` (the page: plain HTML, CSS and JavaScript).
"""
