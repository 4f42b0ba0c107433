"""The one redaction rule: remembered secrets (as they are and URL-encoded) and URL passwords
are masked in error messages and in the platform's log."""

import logging

from platform_assets.errors import RunError
from platform_assets.redaction import redact, redact_log, remember


def test_a_remembered_secret_is_masked_as_it_is_and_as_a_url_carries_it():
    remember("pa ss/wörd-1")
    assert redact("token pa ss/wörd-1 in a message") == "token *** in a message"
    assert redact("?key=pa%20ss%2Fw%C3%B6rd-1&x=1") == "?key=***&x=1"
    assert redact("?key=pa+ss%2Fw%C3%B6rd-1") == "?key=***"


def test_a_url_password_is_masked_whoever_wrote_it():
    assert redact("postgresql+psycopg://app:hunter2@db:5432/crm") == (
        "postgresql+psycopg://app:***@db:5432/crm"
    )
    assert redact("https://host/path?a=b:c@d") == "https://host/path?a=b:c@d"


def test_short_values_are_not_remembered_they_would_mask_ordinary_text():
    remember("ab")
    assert redact("a tab and a cab") == "a tab and a cab"


def test_platform_errors_and_log_lines_are_redacted(caplog):
    remember("tok-123456")
    assert str(RunError("http://x/?token=tok-123456: HTTP 500")) == "http://x/?token=***: HTTP 500"
    log = logging.getLogger("platform")
    redact_log(log)
    with caplog.at_level(logging.INFO, logger="platform"):
        log.info("calling %s", "https://u:pw-9876@api/?t=tok-123456")
    assert caplog.messages == ["calling https://u:***@api/?t=***"]


def test_a_secret_inside_a_longer_word_is_left_alone():
    remember("quokka7")  # the process remembers it for good: a word no other test prints
    assert redact("two quokka7s; the quokka7") == "two quokka7s; the ***"
