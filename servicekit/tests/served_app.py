"""A Flask application factory for the tests that run it under ``servicekit.server.serve``."""

from flask import Flask

from servicekit import requests


def create() -> Flask:
    app = Flask(__name__)
    requests.init_app(app)

    @app.get("/hello")
    def hello():
        return "hi"

    @app.get("/readyz")
    def ready():
        return "ready"

    return app
