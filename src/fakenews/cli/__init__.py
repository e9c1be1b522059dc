"""The command line: ``fakenews`` (main.py) and the whole-params check it runs first."""
