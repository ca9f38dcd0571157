"""Streamlit what-if dashboard over the perfsim library (`perfsim dashboard` starts it).

Importing this package does not import Streamlit; only `dashboard/app.py` and the page modules do.
"""

from pathlib import Path

#: The Streamlit entry script, from a source checkout or an installed wheel alike.
APP_PATH = Path(__file__).resolve().parent / "app.py"
