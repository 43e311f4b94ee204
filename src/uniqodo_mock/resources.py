"""Where the product files are: the repository's ``openapi/`` and ``fixtures/`` folders when this
package runs from a checkout (editable install, tests), else the copies a built wheel carries in
``uniqodo_mock/_data/`` (see ``src/_build.py``). The repository wins, so edits show up at once."""

from __future__ import annotations

from pathlib import Path

__all__ = ["product_dir"]

_PACKAGE = Path(__file__).resolve().parent


def product_dir(name: str, marker: str) -> Path | None:
    """The folder ``name`` holding ``marker``: the checkout's first, then the packaged copy."""
    # The src layout: a checkout is two levels up (repo/src/uniqodo_mock) beside pyproject.toml;
    # looking only there keeps an installed wheel from picking up some unrelated folder.
    checkout = _PACKAGE.parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / name / marker).is_file():
        return checkout / name
    packaged = _PACKAGE / "_data" / name
    if (packaged / marker).is_file():
        return packaged
    return None
