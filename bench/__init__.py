"""Benchmarks: each prints a table of figures against the Kit sandbox, never a
pass or fail on speed. Run one from the repository's root as a module:

    .venv/bin/python -m bench.NAME --help

burst, crafted_input, dashboard, faults, install_chart, load,
refresh_due_celery, refresh_due_scale, refresh_storm, slow_kit, token_paths,
webhooks; `make bench` runs them all but faults. Every time is printed against
a baseline measured in the same run. What they share is in bench/common.py,
and bench/connections.py (many connections in bulk).
"""
