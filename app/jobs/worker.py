"""What `celery -A app.jobs.worker worker` (and `... beat`) loads: the app,
built from the environment like gunicorn's, and its Celery instance."""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
# The web app gives up on Redis after half a second (app/config/: a request
# must not wait on a broker that is down). A worker waits on Redis by design
# (BRPOP, a second at a time): it keeps a bound, a longer one, so that a dead
# connection is still noticed.
# It also keeps retrying to connect and to publish (Celery's defaults).
options = dict(celery_app.conf.broker_transport_options)
options.pop("max_retries", None)
celery_app.conf.broker_transport_options = options | {"socket_timeout": 10}
celery_app.conf.task_publish_retry = True
