"""``python -m fakenews``: the ``fakenews`` command (:mod:`fakenews.serving.cli`)."""

from fakenews.serving.cli import main

raise SystemExit(main())
