"""Polygon history: the real RESTClient against a local Polygon server."""
