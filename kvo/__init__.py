"""KVO domain layer: trajectories, areas, facilitators and the status lookup.

The chat actions and the staff API import from the submodules (``kvo.status``,
``kvo.db``, ...); nothing here talks to the database at import time.
"""
