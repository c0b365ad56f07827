"""Staging layer: raw tables cleaned, merged and stitched by the SQL models in `sql/staging/`."""
