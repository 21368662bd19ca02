"""`GET /healthz`: for load balancers. No auth, no Kit call; checks the
database, and Redis when REDIS_URL is set.

The database down is a 503: nothing works without it, take this instance out
of rotation. Redis down is a 200 "degraded": the app survives it (rate limits
count in each process's memory, the cache is a miss, jobs wait for their
periodic sweep), and every instance shares the one Redis, so a load balancer
that pulled instances for it would turn a slower site into no site. Monitoring
should alert on "degraded".
"""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import redis_store
from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int, dict[str, str]]:
    found = {"status": "ok", "database": "ok"}
    redis = redis_store.ping(current_app)
    if redis is not None:
        found["redis"] = redis
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        found |= {"status": "error", "database": "unreachable"}
        return found, 503, {"Retry-After": "5"}
    if redis == "unreachable":
        found["status"] = "degraded"
    return found, 200, {}
