"""What `celery -A app.jobs.worker worker` (and `... beat`) loads: the app,
built from the environment like gunicorn's, and its Celery instance."""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
