"""The files ``python -m stable_fargate init DIR`` writes: a new own app on the kit.

They ship in the wheel as package data; :func:`write_scaffold` copies them, fills in the app's
name and the library's version, and adds the JSON Schema of cdk.json beside it. Nothing here
imports the CDK.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from stable_fargate import __version__

FILES = {
    "app.py": "app.py",
    "cdk.json": "cdk.json",
    "requirements.txt": "requirements.txt",
    "package.json": "package.json",
    "Makefile": "Makefile",
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "cfnlintrc.yaml": ".cfnlintrc.yaml",
}
"""Scaffold file -> the name it is written under (packaged dot files would be left out)."""

SCHEMA = "cdk-json.schema.json"
"""Written beside cdk.json, which names it as its ``$schema``."""

APP_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
"""An app's name: it names the npm package of the CDK CLI pin."""


def write_scaffold(directory: Path, *, name: str | None = None) -> list[Path]:
    """Write a new own app into ``directory`` (new or empty); return the paths written."""
    directory = Path(directory)
    if "\0" in str(directory):
        raise ValueError(f"{str(directory)!r}: not a directory name")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory}: exists and is not an empty directory; choose a new one")
    app_name = name if name is not None else directory.resolve().name.lower().replace("_", "-")
    if not APP_NAME.fullmatch(app_name):
        raise ValueError(f"{app_name!r}: name the app in lower-case letters, digits and '-', starting with a letter (--name)")
    directory.mkdir(parents=True, exist_ok=True)
    source = resources.files("stable_fargate.scaffold")
    written = []
    for packaged, target in FILES.items():
        text = source.joinpath(packaged).read_text(encoding="utf-8")
        text = text.replace("__NAME__", app_name).replace("__VERSION__", __version__)
        path = directory / target
        path.write_text(text, encoding="utf-8")
        written.append(path)
    schema = resources.files("stable_fargate.config").joinpath(SCHEMA).read_text(encoding="utf-8")
    (directory / SCHEMA).write_text(schema, encoding="utf-8")
    written.append(directory / SCHEMA)
    return written
