from bot.session_ids import MAX_SESSION_ID_CHARS, is_valid_session_id, issue_session_id

SECRET = "s" * 32


def test_issued_ids_verify_and_are_unique() -> None:
    ids = {issue_session_id(SECRET) for _ in range(100)}
    assert len(ids) == 100
    assert all(is_valid_session_id(SECRET, sid) for sid in ids)
    assert all(len(sid) <= MAX_SESSION_ID_CHARS for sid in ids)


def test_forged_or_foreign_ids_are_refused() -> None:
    sid = issue_session_id(SECRET)
    token, _, signature = sid.partition(".")
    assert not is_valid_session_id("t" * 32, sid)
    assert not is_valid_session_id(SECRET, f"{token}x.{signature}")
    assert not is_valid_session_id(SECRET, token)
    assert not is_valid_session_id(SECRET, "chosen-by-client")
    assert not is_valid_session_id(SECRET, None)
    assert not is_valid_session_id(SECRET, {"id": sid})
    assert not is_valid_session_id(SECRET, sid + "A" * 100)
