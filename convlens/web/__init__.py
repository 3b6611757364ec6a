"""The local web app (``convlens serve``): FastAPI pages and a JSON API on the service layer.

>>> from convlens.web import WebSettings, create_app
>>> app = create_app(WebSettings(runs="runs", data="pets-mini"))

How it is put together:

- Pages (``pages_*.py``) and the JSON API (``api.py``) call only :mod:`convlens.service` (and render with the
  report's Jinja2 environment, :mod:`convlens.report.html`); they never orchestrate.
- Heavy work runs off the event loop in a pool of ``workers`` threads (``AppState.run``); loaded models live in
  a small LRU (``models.ModelCache``), each used under its own lock. Long work (filter patterns, Score-CAM, a run's
  report) is a job (``jobs.py``) whose reporter records progress and raises ``Cancelled`` once cancelled; pages
  poll it with htmx every second.
- The guard (``security.py``) checks the Host header (DNS rebinding), the origin of state-changing requests, the
  token (required off loopback) and the body size; errors become 4xx JSON (``errors.py``), never a 5xx.
- A run is *training* while a ``convlens train`` holds its lock; see :mod:`convlens.service.runs` for how that is
  found without taking the lock.
- htmx (2.0.11, 0BSD, ``static/htmx.LICENSE.txt``) ships in the package; nothing is fetched from a network.
"""

from convlens.web.app import create_app
from convlens.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
