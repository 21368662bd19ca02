"""Plain helpers and constants for the tests, one module per subject; tests
import each from its module (`from tests.support.installing import connect`).

- settings: the test apps' settings, this worker's PostgreSQL database, redis
- accounts: signing up and in, the confirmation mail, users stored directly
- installing: the consent round trip (`install`), or a real grant without it
  (`connect`, `granted`)
- rows: stored connections, tokens, audit trail and growth days, read and bent
- grants: grants at Kit, and the retired pairs waiting to be revoked
- webhooks: stored endpoints and events, deliveries signed as Kit signs them
- routes: every route of the app, and a path for each

Fixtures live in conftest.py; servers on loopback ports in tests/servers.py.
kit_sandbox is imported for type hints only, so a fork without it can still
import these modules.
"""
