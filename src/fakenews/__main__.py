"""``python -m fakenews``: the ``fakenews`` command (:mod:`fakenews.cli.main`)."""

from fakenews.cli.main import main

raise SystemExit(main())
