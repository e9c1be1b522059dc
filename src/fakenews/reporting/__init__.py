"""reporting: the report stage's outputs from the evaluate, transfer, audit and overlap results.

collect (read the results) -> ranking (best models, tests, summary.json) -> tables and
audit_tables (cells, headers, legends) -> sections (the report as one list of sections, model.py)
-> markdown and html (two renderings of that list, figures.py draws the SVGs); report.py writes
them all, publish.py copies the cached results under metrics/.
"""
