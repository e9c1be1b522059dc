"""Compatibility re-export: the source fixtures moved to tests/helpers/source_fixtures.py."""

from __future__ import annotations

from helpers.source_fixtures import CUSTOM_FILE, SOURCE_FIXTURE_OPTIONS, write_source_fixture

__all__ = ["CUSTOM_FILE", "SOURCE_FIXTURE_OPTIONS", "write_source_fixture"]
