"""Statistics for the admins and the justice bureau: the dashboard's figures (``figures``),
its charts (``charts``) and its exports (``export``: XLSX and a printable page)."""
