"""Suite-wide settings: property tests are reproducible (same examples every run) unless
HYPOTHESIS_PROFILE=explore asks for fresh random ones, so CI never fails on a new random draw."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
