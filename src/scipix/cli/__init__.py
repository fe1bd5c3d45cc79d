"""The ``scipix`` command line: a thin shell over the service (see ``app.py``)."""
