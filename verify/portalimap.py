"""The test accounts' inbox, as verify reads it: IMAP over TLS (imaplib), and what a received message
says about its own authentication.

The connection goes where verify.webclient sends any host (a --connect-to pin, else --nameserver,
else the system), with --ca-file's trust and the mailbox host as SNI and certificate name. The
password comes from the environment variable `mailbox.passwordEnv` names and is never stored.
Messages are only peeked (BODY.PEEK[]): nothing in the inbox is changed or deleted.
"""
from __future__ import annotations

import email
import imaplib
import os
import re
import socket
import ssl
import time
from email.message import Message
from email.utils import getaddresses, parseaddr

import dkim

from .portalclient import MissingPassword
from .portalexpect import MailboxShape

POLL_S = 0.25
_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.I)
_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{16,}")


class MailboxError(Exception):
    """The inbox could not be read (connection, TLS, login): could not check, never a FAIL."""


class _Imap(imaplib.IMAP4_SSL):
    """IMAP4_SSL that connects to an address of our choosing and verifies the mailbox host's name."""

    def __init__(self, host: str, port: int, where: tuple[str, int], ctx: ssl.SSLContext, timeout: float) -> None:
        self._where = where
        super().__init__(host, port, ssl_context=ctx, timeout=timeout)

    def _create_socket(self, timeout):
        sock = socket.create_connection(self._where, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class Inbox:
    """One signed-in IMAP session on INBOX (read-only). `mark()` then `wait_for(address, since, within)`."""

    def __init__(self, web, box: MailboxShape, timeout: float) -> None:
        password = os.environ.get(box.password_env)
        if not password:
            raise MissingPassword(f"the mailbox's environment variable {box.password_env} is not set (it holds the "
                                  "IMAP password of portal.mailbox)")
        where = f"{box.host}:{box.port}"
        try:
            self.imap = _Imap(box.host, box.port, web.address(box.host, box.port), web.trust(), timeout)
        except (OSError, ssl.SSLError, imaplib.IMAP4.error) as e:
            raise MailboxError(f"IMAPS {where}: {type(e).__name__}: {e}") from None
        except Exception as e:  # verify.webclient.WebError: the host has no address
            raise MailboxError(f"IMAPS {where}: {e}") from None
        try:
            self.imap.login(box.username, password)
        except imaplib.IMAP4.error as e:
            self.close()
            raise MailboxError(f"IMAPS {where}: the server refused the login of the mailbox user "
                               f"({_text(e)}); check {box.password_env} and mailbox.username") from None
        typ, _ = self.imap.select("INBOX", readonly=True)
        if typ != "OK":
            self.close()
            raise MailboxError(f"IMAPS {where}: INBOX cannot be selected")

    def mark(self) -> int:
        """The UID the next message will get: only later messages are looked at."""
        self.imap.noop()
        try:
            typ, data = self.imap.status("INBOX", "(UIDNEXT)")
        except imaplib.IMAP4.error:   # some servers refuse STATUS on the selected mailbox
            typ, data = "NO", [b""]
        m = re.search(rb"UIDNEXT (\d+)", data[0] or b"") if typ == "OK" else None
        if m:
            return int(m.group(1))
        typ, data = self.imap.uid("SEARCH", None, "ALL")
        uids = [int(u) for u in (data[0] or b"").split()] if typ == "OK" else []
        return max(uids, default=0) + 1

    def wait_for(self, address: str, since: int, within: float) -> tuple[bytes | None, float, int]:
        """(raw message, seconds waited, its uid) of the first message to `address` with uid >= since;
        (None, within, since) when none arrives in time. Bounded: at most `within` seconds."""
        t0, looked = time.monotonic(), set()
        while True:
            self.imap.noop()
            typ, data = self.imap.uid("SEARCH", None, f"UID {since}:*")
            uids = [int(u) for u in (data[0] or b"").split()] if typ == "OK" else []
            for uid in sorted(u for u in uids if u >= since and u not in looked):
                looked.add(uid)
                raw = self._fetch(uid)
                if raw is not None and _to(raw, address):
                    return raw, round(time.monotonic() - t0, 2), uid
            if time.monotonic() - t0 >= within:
                return None, float(within), since
            time.sleep(POLL_S)

    def _fetch(self, uid: int) -> bytes | None:
        typ, data = self.imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ != "OK":
            return None
        return next((part[1] for part in data if isinstance(part, tuple) and len(part) > 1), None)

    def close(self) -> None:
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _text(e: Exception) -> str:
    a = e.args[0] if e.args else e
    return (a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a))[:120]


def _to(raw: bytes, address: str) -> bool:
    msg = email.message_from_bytes(raw)
    rcpts = [a.lower() for _n, a in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))]
    return address.lower() in rcpts


def body_text(msg: Message) -> str:
    parts = msg.walk() if msg.is_multipart() else [msg]
    out = []
    for part in parts:
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True) or b""
            out.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(out)


def find_link(raw: bytes) -> str | None:
    """The message's action link: the first URL carrying something token-like (path or query)."""
    urls = _URL.findall(body_text(email.message_from_bytes(raw)).replace("&amp;", "&"))
    return next((u.rstrip(".,;") for u in urls if _TOKENISH.search(u.split("://", 1)[1].partition("/")[2])),
                urls[0] if urls else None)


# ----------------------------------------------------------------- authentication of a received message

def auth_results(raw: bytes) -> dict:
    """The receiving server's verdicts from the first (topmost) Authentication-Results header."""
    msg = email.message_from_bytes(raw)
    headers = msg.get_all("Authentication-Results") or []
    if not headers:
        return {}
    text = " ".join(str(headers[0]).split())
    out = {"authserv": text.split(";", 1)[0].strip()[:80]}
    for method in ("spf", "dkim", "dmarc"):
        found = re.findall(rf"\b{method}=([a-z]+)", text, re.I)
        out[method] = "pass" if "pass" in [f.lower() for f in found] else (found[0].lower() if found else "none")
    return out


def from_domain(raw: bytes) -> str:
    return parseaddr(email.message_from_bytes(raw).get("From", ""))[1].rpartition("@")[2].lower()


def own_dkim(raw: bytes, dns_client) -> tuple[str, str]:
    """(pass | fail | permerror | none, the signing domain d=): dkimpy over the raw message, the key
    looked up through verify's DNS client (--nameserver), and looked up once more ourselves to tell a
    missing key (permerror) from a bad signature (dkimpy answers False for both)."""
    sig = email.message_from_bytes(raw).get("DKIM-Signature")
    if not sig:
        return "none", ""
    tags = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in "".join(str(sig).split()).split(";"))}
    d, s = tags.get("d", "").lower(), tags.get("s", "")

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        texts = dns_client.query(name.decode().rstrip("."), "TXT").texts()
        return texts[0].encode() if texts else None

    try:
        ok = dkim.verify(raw, dnsfunc=dnsfunc)
    except dkim.DKIMException:
        return "permerror", d
    if ok:
        return "pass", d
    return ("permerror" if dnsfunc(f"{s}._domainkey.{d}".encode()) is None else "fail"), d


def aligned(d: str, from_dom: str) -> bool:
    """Relaxed DMARC alignment: the same organizational domain (the last two labels, an approximation)."""
    def org(x: str) -> str:
        return ".".join(x.lower().rstrip(".").split(".")[-2:])
    return bool(d) and org(d) == org(from_dom)
