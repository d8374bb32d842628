"""A bare Flask app that returns one fixed body: the HTTP stack's own cost, nothing else.

The benchmark runs it under each candidate WSGI server (gunicorn sync, gunicorn gthread,
granian) to show what the server choice alone is worth, and as the yardstick for pages and
/data descriptions. The body is read once from the file named by ``BENCH_FIXED_BODY``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

_path = os.environ.get("BENCH_FIXED_BODY")
BODY = Path(_path).read_bytes() if _path else b'{"head":{"vars":[]},"results":{"bindings":[]}}'
MEDIA_TYPE = os.environ.get("BENCH_FIXED_TYPE", "application/sparql-results+json")

app = Flask(__name__)


@app.get("/fixed")
def fixed() -> Response:
    return Response(BODY, mimetype=MEDIA_TYPE)
