"""The server starts on the built release and answers over HTTP."""

import requests


def test_health_names_the_release_being_served(live_server, release):
    body = requests.get(live_server + "health", timeout=5).json()
    assert body["status"] == "ok"
    assert body["version"] == release.version
    assert body["triples"] > 1000
