"""The local web app (``convlens serve``): FastAPI pages and a JSON API on the service layer.

>>> from convlens.web import WebSettings, create_app
>>> app = create_app(WebSettings(runs="runs", data="pets-mini"))
"""

from convlens.web.app import create_app
from convlens.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
