"""Author notebooks/app.ipynb, the Voila app: it only imports and displays nanokit's app object."""

from pathlib import Path

from make_notebook import write

# No markdown title: the app draws its own header, and Voila shows every markdown cell.
write(Path(__file__).resolve().parents[1] / "notebooks" / "app.ipynb", [
    ("code", ("# The nanokit app: `nanokit app` serves this notebook with Voila.\n"
              "from widgets.app import NanokitApp\n\nNanokitApp()")),
], timeout=300)
