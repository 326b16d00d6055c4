"""The Blueprint every API module uses: flask-smorest's, with a sturdier JSON parser."""

from __future__ import annotations

import json

import flask_smorest
from webargs.flaskparser import FlaskParser


class _Parser(FlaskParser):
    """Answers 400 to every unparsable JSON body, not only to the errors webargs expects."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as error:
            # Nested too deeply, or an integer with more digits than Python converts.
            raise json.JSONDecodeError(str(error), "<request body>", 0) from error


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()
