"""Django apps of Rafiki Web. Each app: models (rows), services (writes), selectors (reads),
tasks (Celery entry points), admin."""
