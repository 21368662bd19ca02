"""Kit's OAuth: the consent screen and the token and revoke endpoints.

* ``views.py``: the ``oauth`` blueprint (authorize, token, revoke views);
* ``authorize.py``: the rules for an authorize request;
* ``grants.py``: the token endpoint's rules (client authentication, code
  exchange with PKCE, refresh token rotation, revocation).
"""

from .views import bp

__all__ = ["bp"]
