"""``python -m scipix``: the same as the ``scipix`` command."""

from scipix.cli.app import main

main()
