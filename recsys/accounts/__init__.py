"""Who is acting: principals and roles, local accounts with memory-hard password hashes, login sessions.

The service asks this package who a caller is; it decides what they may do itself (recsys/service/permissions.py).
"""
