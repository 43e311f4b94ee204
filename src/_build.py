"""Build step: ship the product files ``openapi/*.yaml`` and ``fixtures/*.yaml`` inside the wheel.

They stay at the top of the repository (partners read and diff them there); a built wheel gets
copies under ``uniqodo_mock/_data/`` so ``pip install uniqodo-mock`` works without the repository.
Referenced from pyproject.toml as ``[tool.setuptools.cmdclass] build_py``; it sits in ``src/``
because setuptools looks such modules up in the package folder. It is a module, not a package,
so the wheel does not carry it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py as _build_py

__all__ = ["build_py"]

ROOT = Path(__file__).resolve().parents[1]  # src/_build.py → the repository
# Top-level folder → the files the wheel carries.
PRODUCT_FILES = {"openapi": "*.yaml", "fixtures": "*.yaml"}


class build_py(_build_py):
    def run(self) -> None:
        super().run()
        # Editable installs read the repository folders directly: nothing to copy.
        if getattr(self, "editable_mode", False):
            return
        for folder, pattern in PRODUCT_FILES.items():
            target = Path(self.build_lib) / "uniqodo_mock" / "_data" / folder
            target.mkdir(parents=True, exist_ok=True)
            for source in sorted((ROOT / folder).glob(pattern)):
                shutil.copy2(source, target / source.name)
