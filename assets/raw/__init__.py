"""Raw layer: landing files -> typed DuckDB tables in schema `raw`, bad rows in `raw.quarantine`.

- `vendor_formats`: header detection and column mapping for canonical, HubSpot and Salesforce exports
  (rules in config/vendor_formats.yaml).
- `crm_load.load_crm`: the five CRM snapshots, checked first, loaded in one transaction.
- `web_events_load.load_web_events`: web event day files, per day, incremental, idempotent.
- `assets`: the Dagster assets raw/{accounts,contacts,opportunities,subscriptions,suppressions}
  (multi-asset raw_crm), raw/web_events and raw/quarantine.
"""
from assets.raw.crm_load import load_crm
from assets.raw.landing import LandingFileError, LoadCounts
from assets.raw.vendor_formats import detect_format, load_vendor_formats
from assets.raw.web_events_load import load_web_events

__all__ = ["LandingFileError", "LoadCounts", "detect_format", "load_crm", "load_vendor_formats", "load_web_events"]
