"""The `nanokit` command. Each sub-command lives in its own module and registers on `app`."""

from nanokit.cli._app import app
from nanokit.cli import serve  # noqa: F401  (registers `nanokit serve`)
from nanokit.cli import tiny  # noqa: F401  (registers `nanokit tiny build|train|eval`)
from nanokit.cli import bench  # noqa: F401  (registers `nanokit bench`)
from nanokit.cli import command  # noqa: F401  (registers `nanokit command` and `nanokit plan`)
from nanokit.cli import webapp  # noqa: F401  (registers `nanokit app`; not app.py, which would shadow `app`)

__all__ = ["app", "main"]


def main() -> None:
    app()
