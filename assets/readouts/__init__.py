"""Readouts (issue 6): upsell criteria performance and audience lift, with their report."""
