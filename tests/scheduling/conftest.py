"""The scheduling tests use the shared fixtures of tests/conftest.py."""

from tests.conftest import SiteFactory, make_site, site, temporal_env

__all__ = ["SiteFactory", "make_site", "site", "temporal_env"]
