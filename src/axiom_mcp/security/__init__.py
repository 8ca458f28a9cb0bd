"""Secrets, hashes and passwords."""
