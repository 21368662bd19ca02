"""A creator's Kit data, under their control (Kit's best practices forbid
keeping subscriber data outside Kit without explicit consent).

What the app keeps per connection, and for how long (kept.py: the settings
page and the notice before consent read it); the event kinds a creator
switched off (kinds.py); "Download my data", streamed as JSON or a zip of
CSV files (export.py); "Delete my data" (erase.py); and the retention jobs
(tasks.py). The page itself is `app/settings/`; a disconnect, which deletes
the same data, is `app/install/disconnect.py`.
"""
