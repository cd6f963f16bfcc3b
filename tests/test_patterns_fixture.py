"""The aws_ecs_patterns fixture's templates are what tests/fixtures/patterns_app.py synthesizes."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.patterns_app import DEFAULT_OUT, generate


def test_regenerating_the_fixture_gives_the_committed_templates(tmp_path: Path) -> None:
    generate(tmp_path)
    committed = {p.name: p.read_text() for p in DEFAULT_OUT.iterdir()}
    regenerated = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert regenerated == committed, "run: python tests/fixtures/patterns_app.py"
