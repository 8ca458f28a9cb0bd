"""The web app (port 3000): login, sign-up, consent, connected apps, dashboard."""
