"""The entry point for WSGI servers: `gunicorn webapp.wsgi:app` (what `make run` serves).

It refuses to start on a database that is missing, has no schema or is not at this
code's migration, with a message that says what to run (`flask --app webapp init`):
otherwise the app would answer every request with a 500. The check lives here, where
serving starts, and not in create_app(), because `flask --app webapp init`, `flask db
upgrade` and the tests build the app on an empty database precisely to create the schema.
Served as `make run` serves it (gunicorn `--preload`), the master runs this once before it
forks any worker; when it fails, gunicorn stops with the message. A worker started later
(one killed, or timed out) is forked from that master and is not checked again: a
database file deleted while the server runs must get 503s from it, as from the others,
not a worker that cannot boot and so stops the whole server. A database server that does
not answer is only logged: it may be restarting, and /healthz tells the load balancer
meanwhile.
"""

from __future__ import annotations

import gc

from webapp import create_app
from webapp.extensions import db
from webapp.services.health import check_ready_to_serve, migration_heads

app = create_app()
with app.app_context():
    heads = migration_heads(app.extensions["migrate"].directory)
    if warning := check_ready_to_serve(db.engine, heads):
        app.logger.warning("%s", warning)
    db.engine.dispose()  # gunicorn may fork after this: no connection crosses a fork

# What was built to serve (modules, the app, its routes and templates) lives as long as the
# worker: moved out of the collector's reach, so that a full collection walks only what
# requests made since, instead of some 150,000 objects every few hundred requests.
gc.collect()
gc.freeze()
