"""Tests that each security hole of issue 17 stays closed."""
