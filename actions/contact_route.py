"""The Dutch phrase naming PVO's contact routes ("telefonisch op ... of via de website ...").

Standard library only: the engine's response generator (bot/nlg.py) and the actions both use it,
so a response reads the same whichever of them fills it.
"""

from __future__ import annotations


def contact_route_phrase(phone: str = "", email: str = "", url: str = "") -> str:
    """Every configured route in one phrase, to follow "U bereikt PVO ..."."""
    routes = []
    if phone:
        routes.append(f"telefonisch op {phone}")
    if email:
        routes.append(f"per e-mail via {email}")
    if url:
        routes.append(f"via de website {url}")
    if not routes:
        return "via de website van PVO Brabant-Zeeland"
    if len(routes) == 1:
        return routes[0]
    return ", ".join(routes[:-1]) + " of " + routes[-1]
