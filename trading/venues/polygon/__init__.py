"""Polygon history: aggregates, trades and quotes downloaded into the research store.

``download.run_download`` plans the work per symbol (and day), fetches it page by page with
polygon-api-client's ``RESTClient`` (``client.PolygonPages``), paces requests to the plan's
rate limit (``pacing.TokenBucket``), keeps finished pages in a journal inside the store
(``journal.DownloadJournal``) so an interrupted download resumes where it stopped, and commits
each finished symbol or day to :class:`trading.research.store.MarketDataStore` with the source
``"polygon"``.
"""
