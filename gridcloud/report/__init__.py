"""``gridcloud cost report``: what the facility really spent, from Cloud Billing's detailed
(resource-level) export. One query, written in BigQuery's SQL (``query.py``), sent to
BigQuery as it is or run on a local export file with DuckDB after sqlglot transpiles it
(``source.py``); the report is assembled from its rows (``model.py``) and shown in the
terminal or as HTML (``render.py``)."""
