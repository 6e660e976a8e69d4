"""What can go wrong talking to Polygon, each with a message that says what to do."""

from __future__ import annotations


class PolygonError(Exception):
    """A download stopped; the message names the request (never the API key)."""


class PolygonAuthError(PolygonError):
    """Polygon refused the API key (HTTP 401): nothing more can be fetched with it."""


class PolygonNotAuthorized(PolygonError):
    """The plan does not include this data (HTTP 403 NOT_AUTHORIZED)."""


class PolygonPayloadError(PolygonError):
    """A response was not what Polygon's published format promises (malformed JSON, fields)."""


class PolygonUnavailable(PolygonError):
    """Retries ran out: rate limited, server errors or dropped connections, again and again."""
