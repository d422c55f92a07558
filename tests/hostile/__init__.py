"""Tests against a hostile HTTPS endpoint of our own (tests/hostile/server.py)."""
