"""The demo data the sandbox starts with, the same on every run.

* ``accounts.py``: the three demo creators (``DemoAccount``) and their users;
* ``account_data.py``: what each account holds (subscribers, tags, custom
  fields, forms, sequences), dated relative to the moment of seeding;
* ``broadcasts.py``: the accounts' broadcasts and their stats;
* ``words.py``: the names, cities, tags and subjects the data is made of.
"""

from .account_data import seed_account_data
from .accounts import DemoAccount, seed_accounts

__all__ = ["DemoAccount", "seed_account_data", "seed_accounts"]
