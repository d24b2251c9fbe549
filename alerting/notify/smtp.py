"""E-mail over SMTP with the standard library (``smtplib`` and ``email.message``).

Why not Apprise's e-mail plugin (our choice for the generic webhook): it reports a failed send as
``False`` plus a warning such as ``Connection error while submitting email to "host"``, for a
refused password as much as for a dead server; the SMTP reply code and the exception are logged
only at DEBUG, below the level Apprise's logger records by default. :class:`DeliveryError` must
say whether a retry can help, and an operator must read "login refused, check the password"
rather than "connection error". The standard library gives both: RFC 5321 reply codes (4xx
transient, 5xx permanent) and typed exceptions. It also encodes Chinese headers (RFC 2047) and
bodies (UTF-8) by itself, so what is written here is only the mapping of outcomes to errors.
Apprise would also have slept 5.5 s between two sends of one channel (its default throttle) and
sent one copy per recipient.

One message goes to all recipients at once. Every socket operation is bounded by ``timeout_s``.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from alerting.notify.base import DeliveryError, Notification
from alerting.notify.config import EmailConfig

__all__ = ["EmailChannel"]


class EmailChannel:
    """Sends each notification as one plain-text UTF-8 e-mail to every address of ``to``.

    ``send`` raises :class:`DeliveryError`: retryable for network trouble, timeouts and 4xx
    replies; not retryable for a refused login (``auth``), a TLS failure (``tls``), 5xx replies
    (``rejected``) and recipients refused while others were accepted (``partial``: retrying
    would send the accepted ones a second copy).
    """

    kind = "email"

    def __init__(self, config: EmailConfig):
        self.name = config.name
        self.config = config
        self._where = f"SMTP server {config.host}:{config.smtp_port}"

    def __repr__(self) -> str:
        return f"EmailChannel({self.name!r}, {self._where})"

    def message(self, note: Notification) -> EmailMessage:
        """The e-mail for ``note`` (public so tests and previews can look at it)."""
        msg = EmailMessage()
        msg["Subject"] = note.subject
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(self.config.to)
        msg["Date"] = formatdate(localtime=True)
        domain = parseaddr(self.config.sender)[1].rpartition("@")[2]
        msg["Message-ID"] = make_msgid(domain=domain)
        if note.alert_id:
            # lets mail rules file alerts and receivers spot a repeat delivery
            msg["X-Yuqing-Alert-Id"] = note.alert_id
        msg["X-Yuqing-Level"] = str(note.level)
        # base64 keeps the message 7-bit: relays without 8BITMIME pass it unharmed, and for
        # Chinese text it is smaller than quoted-printable
        msg.set_content(note.plain_text(), charset="utf-8", cte="base64")
        return msg

    def send(self, message: Notification) -> None:
        msg = self.message(message)
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(msg)
            finally:
                _hang_up(smtp)
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(f"login as {self.config.username!r} refused ({_reply(exc)}); "
                              "check username and password", False, "auth") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{addr}: {code}" for addr, (code, _) in exc.recipients.items())
            raise self._error(f"every recipient refused ({detail}); check the to addresses",
                              all(400 <= c < 500 for c in codes), "rejected") from None
        except smtplib.SMTPResponseException as exc:
            transient = 400 <= exc.smtp_code < 500
            raise self._error(f"refused the message ({_reply(exc)})", transient, "rejected") from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib reports a reply that timed out as a disconnect; the timeout is its context
            if isinstance(exc.__context__, TimeoutError):
                raise self._error(f"no answer within {self.config.timeout_s:g}s", True,
                                  "timeout") from None
            raise self._error(f"closed the connection ({exc})", True, "unreachable") from None
        except smtplib.SMTPException as exc:
            # what is left: STARTTLS or AUTH not offered, no usable login method
            raise self._error(f"{exc}; check security ({self.config.security}) and whether this "
                              "server wants a login", False, "rejected") from None
        except ssl.SSLCertVerificationError as exc:
            raise self._error(f"certificate not trusted ({exc.verify_message}); fix the server's "
                              "certificate or set verify_tls: false", False, "tls") from None
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
            raise self._error(f"connection cut during TLS ({exc})", True, "unreachable") from None
        except ssl.SSLError as exc:
            raise self._error(f"TLS failed ({exc.reason or exc}); check security "
                              f"({self.config.security}) and port", False, "tls") from None
        except TimeoutError:
            raise self._error(f"no answer within {self.config.timeout_s:g}s", True,
                              "timeout") from None
        except OSError as exc:
            # refused or reset connections, DNS failures, no route
            raise self._error(f"cannot connect ({type(exc).__name__}: {exc})", True,
                              "unreachable") from None
        if refused:
            detail = "; ".join(f"{addr}: {code}" for addr, (code, _) in refused.items())
            raise self._error(f"delivered, but these recipients were refused: {detail}; "
                              "check their addresses", False, "partial")

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context()
        if not cfg.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        # smtplib would ask DNS for our fully qualified name (socket.getfqdn) before EHLO; on an
        # office network without reverse DNS that lookup can stall far beyond timeout_s
        local = socket.gethostname() or "localhost"
        if cfg.security == "ssl":
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.smtp_port, local_hostname=local,
                                    timeout=cfg.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.smtp_port, local_hostname=local,
                                timeout=cfg.timeout_s)
        try:
            if cfg.security == "starttls":
                smtp.starttls(context=context)
            if cfg.username is not None:
                smtp.login(cfg.username, cfg.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _error(self, reason: str, retryable: bool, code: str) -> DeliveryError:
        return DeliveryError(self.name, f"{self._where}: {reason}", retryable, code=code)


def _hang_up(smtp: smtplib.SMTP) -> None:
    """QUIT politely; once the message is accepted, a failing goodbye must not turn a delivered
    message into an error (and so into a second copy)."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
        else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()
