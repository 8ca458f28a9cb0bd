"""The REST API at ``/api/v1``: the person's records, profile, sign-up and login (port 8090)."""
