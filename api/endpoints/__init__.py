"""One ninja router per area of the API."""
