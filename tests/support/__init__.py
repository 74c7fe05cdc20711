"""Helpers shared by functional, process-level and browser tests."""
