"""Process-level tests: the app under gunicorn, the command line in processes of their own."""
