"""The dashboard's charts, drawn as SVG by ``svg`` (no chart library)."""
