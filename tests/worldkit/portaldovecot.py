"""A private Dovecot (Debian's `dovecot-imapd`) serving one Maildir over IMAPS on 127.0.0.1, for the
portal mail world (portalmail.py). Its own config, base_dir and log in a fresh directory; the
system service is never used (installing the package may start one: .ci/run stops it).

Dovecot refuses mail access as uid 0, so when the tests run as root the mailbox user is `nobody`
and every directory it reaches is made traversable for it (pytest's own tmp dirs are 0700 root).
The Maildir is written directly by the SMTP receiver (portalmailrecv.py) and chowned to that user.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .knot import free_port

DOVECOT = "/usr/sbin/dovecot"


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or (DOVECOT if Path(DOVECOT).exists() else None)
    if not found:
        raise RuntimeError("dovecot not installed (Debian package 'dovecot-imapd'); .ci/run installs it")
    return found


def _users() -> tuple[str, str, str]:
    """(mail user, internal user, login user): unprivileged system users as root, else ourselves."""
    if os.geteuid() == 0:
        return "nobody", "dovecot", "dovenull"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


class Dovecot:
    """`Dovecot(cert, key, username, password).start()`; `.port`, `.maildir` (a Maildir root)."""

    def __init__(self, cert: str, key: str, username: str, password: str) -> None:
        self.cert, self.key, self.username, self.password = cert, key, username, password
        self.dir = Path(tempfile.mkdtemp(prefix="launchready-dovecot-"))
        self.dir.chmod(0o755)
        self.maildir = self.dir / "Maildir"
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.user, self.internal, self.login = _users()
        entry = pwd.getpwnam(self.user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def _conf(self) -> str:
        d = self.dir
        dh = "/usr/share/dovecot/dh.pem"
        return "\n".join([
            f"base_dir = {d}/run", f"state_dir = {d}/state", f"log_path = {d}/dovecot.log",
            f"info_log_path = {d}/dovecot.log", "protocols = imap", "listen = 127.0.0.1",
            f"default_internal_user = {self.internal}", f"default_login_user = {self.login}",
            "ssl = required", f"ssl_cert = <{self.cert}", f"ssl_key = <{d}/key.pem", "ssl_min_protocol = TLSv1.2",
            *([f"ssl_dh = <{dh}"] if Path(dh).exists() else []),
            "disable_plaintext_auth = yes", "auth_mechanisms = plain", "first_valid_uid = 1",
            f"mail_location = maildir:{self.maildir}", "mail_fsync = never",
            "passdb {", "  driver = passwd-file", f"  args = scheme=PLAIN username_format=%u {d}/passwd", "}",
            "userdb {", "  driver = static", f"  args = uid={self.uid} gid={self.gid} home={d}/home", "}",
            "service imap-login {", "  inet_listener imap {", "    port = 0", "  }",
            "  inet_listener imaps {", f"    port = {self.port}", "    ssl = yes", "  }", "}",
            "service anvil {", "  chroot =", "}", "service stats {", "  unix_listener stats-writer {",
            "    mode = 0666", "  }", "}", "",
        ])

    def _prepare(self) -> None:
        for sub in ("Maildir/cur", "Maildir/new", "Maildir/tmp", "home", "state"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("Maildir", "Maildir/cur", "Maildir/new", "Maildir/tmp", "home"):
            os.chown(self.dir / sub, self.uid, self.gid)
        # Dovecot reads the key as root (master) before dropping privileges; keep a private copy.
        shutil.copyfile(self.key, self.dir / "key.pem")
        (self.dir / "key.pem").chmod(0o600)
        (self.dir / "passwd").write_text(f"{self.username}:{{PLAIN}}{self.password}\n")
        (self.dir / "passwd").chmod(0o644)

    def start(self, timeout: float = 10.0) -> Dovecot:
        binary = dovecot_binary()
        self._prepare()
        last = ""
        for _attempt in range(3):   # a port from free_port() can be taken before dovecot binds it
            self.port = free_port()
            conf = self.dir / "dovecot.conf"
            conf.write_text(self._conf())
            self.proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr.log", "ab"))
            if self._wait(timeout):
                return self
            last = self.log_tail()
            self._kill()
        raise RuntimeError(f"dovecot did not start: {last}")

    def _wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def log_tail(self, n: int = 2000) -> str:
        out = ""
        for name in ("stderr.log", "dovecot.log"):
            p = self.dir / name
            if p.exists():
                out += p.read_text(errors="replace")[-n:]
        return out

    def deliver(self, raw: bytes) -> None:
        """Put one message into the Maildir (new/), owned by the mail user."""
        name = f"{time.time():.6f}.{os.getpid()}.{os.urandom(6).hex()}.launchready"
        tmp, new = self.maildir / "tmp" / name, self.maildir / "new" / name
        tmp.write_bytes(raw.replace(b"\r\n", b"\n"))
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, new)

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)
