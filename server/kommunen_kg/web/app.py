"""The Flask application factory.

The application is read-only and stateless apart from the :class:`Publication` it is given:
every worker process of a production server runs the same application over the same store,
and any number of servers can run side by side, each on its own copy of a release.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

from kommunen_kg import __version__
from kommunen_kg.sparql.errors import EngineUnavailable, QueryError, QueryTimeout
from kommunen_kg.web.catalog import bp as catalog_bp
from kommunen_kg.web.downloads import bp as downloads_bp
from kommunen_kg.web.endpoint.direct import DirectAnswers
from kommunen_kg.web.endpoint.protocol import bp as sparql_bp
from kommunen_kg.web.feed import bp as feed_bp
from kommunen_kg.web.http import layer as http_layer
from kommunen_kg.web.http.response_cache import ResponseCache
from kommunen_kg.web.pages.calendar import bp as calendar_bp
from kommunen_kg.web.publication import EXTENSION_KEY, Publication
from kommunen_kg.web.views import register_views

RESPONSE_CACHE_KEY = "kommunen_kg.response_cache"
# What the asynchronous front asks before the application: SPARQL answers given on its event
# loop (web/endpoint/direct.py).
DIRECT_KEY = "kommunen_kg.direct"
# Why graphs/current names a release this server could not switch to (web/live.py), if so.
RELEASE_PROBLEM_KEY = "kommunen_kg.release_problem"


def create_app(publication: Publication) -> Flask:
    """Builds the application for one publication; blueprints add the views."""
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = publication
    app.config["MAX_CONTENT_LENGTH"] = publication.config.server.max_request_size
    app.json.sort_keys = False  # type: ignore[attr-defined]

    app.register_blueprint(sparql_bp)
    app.register_blueprint(downloads_bp)
    app.register_blueprint(catalog_bp)
    # An event's calendar (/page/event/{slug}.ics) and the releases' Atom feed (/releases.atom).
    app.register_blueprint(calendar_bp)
    app.register_blueprint(feed_bp)
    # ETags, 304s, Cache-Control, gzip and CORS for every response (see web/http/layer.py).
    http_layer.init_app(
        app, publication.version, publication.release.created if publication.release else None
    )

    register_views(app)
    # Outermost: a repeated request is answered before Flask sees it. Not where the store is
    # refilled in place (the conformance runner): there an answer is not fixed by the release.
    cache_size = publication.config.server.response_cache_size
    cache = None
    if publication.answer_cache and cache_size > 0:
        cache = ResponseCache(app.wsgi_app, max_bytes=cache_size * 1024 * 1024)
        app.wsgi_app = cache  # type: ignore[method-assign]
        app.extensions[RESPONSE_CACHE_KEY] = cache
    app.extensions[DIRECT_KEY] = DirectAnswers(app, cache)

    @app.errorhandler(QueryTimeout)
    @app.errorhandler(EngineUnavailable)
    def engine_unavailable(exc: QueryError):
        """A remote store that is down or too slow is a 503 for every view, never a 500."""
        return Response(f"{exc}\n", 503, {"Retry-After": "5"}, mimetype="text/plain")

    @app.get("/health")
    def health():
        """Liveness and what is served, for load balancers and the test harness."""
        problem = app.extensions.get(RELEASE_PROBLEM_KEY)
        if problem:  # serving, but not the release graphs/current names
            return jsonify(status="stale", version=publication.version, reason=problem), 503
        try:
            publication.check_reachable()
            triples = publication.triple_count()
        except (EngineUnavailable, QueryTimeout) as exc:
            return jsonify(status="unavailable", reason=str(exc)), 503
        return jsonify(
            status="ok",
            version=publication.version,
            triples=triples,
            software=f"kommunen-kg {__version__}",
        )

    return app
