"""Request and response bodies of the staff API (apart from the ORM models)."""
