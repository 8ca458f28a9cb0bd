"""The auth service (port 8090): OAuth endpoints (``oauth_endpoints``) and the REST API (``rest_api``)."""
