"""Benchmarks: each prints a table of figures against the Kit sandbox, never a
pass or fail on speed. Run one from the repository's root as a module:

    .venv/bin/python -m bench.NAME --help

dashboard, install_chart, load, refresh_due_celery, refresh_due_scale,
refresh_storm, token_paths; `make bench` runs them all. What they share is in
bench/common.py, and bench/connections.py (many connections in bulk).
"""
