"""The `nanokit` command. Each sub-command lives in its own module and registers on `app`."""

from nanokit.cli import (
    bench,  # noqa: F401  (registers `nanokit bench`)
    command,  # noqa: F401  (registers `nanokit command` and `nanokit plan`)
    lab,  # noqa: F401  (registers `nanokit lab`)
    serve,  # noqa: F401  (registers `nanokit serve`)
    tiny,  # noqa: F401  (registers `nanokit tiny build|train|eval`)
    traces,  # noqa: F401  (registers `nanokit traces generate|stats|export|triton-problems`)
    tune,  # noqa: F401  (registers `nanokit tune`)
    webapp,  # noqa: F401  (registers `nanokit app`; not app.py, which would shadow `app`)
)
from nanokit.cli._app import app
from nanokit.cli.webapp import app_notebook, voila_argv

# app_notebook and voila_argv: how `nanokit app` runs Voila, for checks that measure it (nanokit.lab.app_memory).
__all__ = ["app", "app_notebook", "main", "voila_argv"]


def main() -> None:
    app()
