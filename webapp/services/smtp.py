"""Sending one e-mail through the configured SMTP server (no Flask, no database)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False

    @classmethod
    def from_config(cls, config) -> SmtpSettings | None:
        """The settings from SMTP_* configuration; None when e-mail is off (no SMTP_HOST)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(
            host=config["SMTP_HOST"],
            port=int(config.get("SMTP_PORT") or 25),
            sender=config.get("SMTP_FROM") or "",
            user=config.get("SMTP_USER") or "",
            password=config.get("SMTP_PASSWORD") or "",
            starttls=bool(config.get("SMTP_STARTTLS")),
        )


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): sending it again is useless."""


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server. Raises PermanentFailure for a 5xx refusal, and
    OSError or smtplib.SMTPException for anything worth trying again later."""
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as server:
            if settings.starttls:
                server.starttls(context=ssl.create_default_context())
            if settings.user:
                server.login(settings.user, settings.password)
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {error.recipients}") from error
        raise
    except smtplib.SMTPResponseException as error:
        # A refused login or sender is the server's configuration: every message would
        # fail alike until it is fixed, so those are tried again.
        configuration = (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused)
        if error.smtp_code >= 500 and not isinstance(error, configuration):
            raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise
