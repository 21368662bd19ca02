"""Everything that speaks HTTP to Kit: OAuth, tokens, the API v4 client.

No Flask request objects in here: these functions take explicit arguments so
views, CLI commands and background jobs can all call them.
"""
