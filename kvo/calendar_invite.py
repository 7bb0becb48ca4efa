"""iCalendar invitations (RFC 5545 / iTIP) for intake bookings.

One UID per booking (its reference), so a move (METHOD:REQUEST with a higher
SEQUENCE) updates the event in the recipient's calendar and a cancellation
(METHOD:CANCEL) removes it. Times carry TZID=Europe/Amsterdam with a VTIMEZONE.
"""

from __future__ import annotations

from datetime import date, datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Platform Veilig Ondernemen Brabant-Zeeland//PVO-assistent//NL"
REQUEST, CANCEL = "REQUEST", "CANCEL"


def sender_domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "pvo-assistent.local"


def booking_uid(reference: str, mail_from: str) -> str:
    """Stable per booking: ``int-abc234@<domain of the sender address>``."""
    return f"{reference.lower()}@{sender_domain(mail_from)}"


def build_invite(
    *,
    method: str,
    uid: str,
    sequence: int,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    description: str,
    location: str,
    organizer: str,
    attendees: list[str],
    tz: ZoneInfo,
    stamp: datetime,
) -> bytes:
    """The .ics file content for a REQUEST (new or moved) or a CANCEL."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at.astimezone(tz))
    event.add("dtend", ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("description", description)
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    name, address = parseaddr(organizer)
    organizer_address = vCalAddress(f"mailto:{address}")
    if name:
        organizer_address.params["cn"] = vText(name)
    event.add("organizer", organizer_address)
    for attendee in attendees:
        attendee_address = vCalAddress(f"mailto:{attendee}")
        attendee_address.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee_address, encode=False)
    calendar.add_component(event)
    # A VTIMEZONE covering the years around the intake keeps the file small.
    year = starts_at.astimezone(tz).year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return calendar.to_ical()
