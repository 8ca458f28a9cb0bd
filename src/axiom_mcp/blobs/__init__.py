"""Blob storage: the bytes of attached files, in a folder or in S3-compatible object storage.

A storage layer beside ``db``: it knows keys and bytes, nothing of users, items or the database.
"""
