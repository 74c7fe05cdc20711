"""A local SMTP server for the e-mail tests (aiosmtpd, on a free loopback port)."""

from __future__ import annotations

import email
import threading
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.servers import free_port


class Inbox:
    """What the server received. `refuse`: an SMTP answer (e.g. "550 ...") to give to
    every message instead of taking it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.authenticated: list[bool] = []
        self.refuse: str | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
            self.authenticated.append(bool(getattr(session, "authenticated", False)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        options = {}
        if credentials:
            user, password = credentials

            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                ) == (user, password)
                return AuthResult(success=ok, handled=False)

            # Login offered without TLS (a test on loopback); whether a message came
            # from a logged-in session is recorded (`authenticated`).
            options = {
                "authenticator": authenticate,
                "auth_require_tls": False,
                "auth_exclude_mechanism": ["LOGIN"],
            }
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
