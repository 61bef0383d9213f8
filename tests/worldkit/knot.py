"""Run a private knotd on 127.0.0.1: own config, rundir, storage and KASP db in one directory.

No root, no systemd: knotd runs in the foreground as the current user and is stopped by pid.
Zones are given as text; zones named in `signed` are DNSSEC-signed by knotd itself
(ECDSA P-256, automatic key management), and `ds_records()` reads their DS via keymgr so a
parent zone on the same server can publish the delegation signer.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rcode


class KnotUnavailable(RuntimeError):
    pass


def knot_binaries() -> dict[str, str]:
    found = {}
    for exe in ("knotd", "knotc", "keymgr"):
        path = shutil.which(exe) or (f"/usr/sbin/{exe}" if os.access(f"/usr/sbin/{exe}", os.X_OK) else None)
        if not path:
            raise KnotUnavailable(f"{exe} not found (Debian package 'knot')")
        found[exe] = path
    return found


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


@dataclass
class KnotServer:
    workdir: Path
    zones: Mapping[str, str]
    signed: Iterable[str] = ()
    broken: Iterable[str] = ()  # configured but without a zone file: knotd answers SERVFAIL
    extra_listen: Iterable[str] = ()  # e.g. "127.0.0.1@53" for tools that cannot take a port
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _conf(self) -> str:
        lines = [
            "server:",
            f'    rundir: "{self.workdir / "run"}"',
            f"    listen: [ 127.0.0.1@{self.port}{''.join(', ' + x for x in self.extra_listen)} ]",
            "    background-workers: 2",
            "    udp-workers: 2",
            "    tcp-workers: 2",
            "database:",
            f'    storage: "{self.workdir / "db"}"',
            "log:",
            "  - target: stderr",
            "    any: warning",
            "policy:",
            "  - id: world",
            "    algorithm: ecdsap256sha256",
            "    ksk-lifetime: 0",
            "    zsk-lifetime: 0",
            "    nsec3: off",
            "template:",
            "  - id: default",
            f'    storage: "{self.workdir / "zones"}"',
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "    semantic-checks: off",
            "zone:",
        ]
        signed = {z.rstrip(".").lower() for z in self.signed}
        for name in [*self.zones, *self.broken]:
            n = name.rstrip(".").lower()
            lines += [f"  - domain: {n}.", f"    file: {n}.zone"]
            if n in signed:
                lines += ["    dnssec-signing: on", "    dnssec-policy: world"]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> KnotServer:
        bins = knot_binaries()
        for sub in ("run", "db", "zones"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        for name, text in self.zones.items():
            (self.workdir / "zones" / f"{name.rstrip('.').lower()}.zone").write_text(text)
        last_err = ""
        for _attempt in range(3):  # a port picked by free_port() can be taken before knotd binds it
            self.port = free_port()
            conf = self.workdir / "knot.conf"
            conf.write_text(self._conf())
            self._log = open(self.workdir / "knotd.log", "ab")
            self.proc = subprocess.Popen([bins["knotd"], "-c", str(conf)], stdout=self._log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_ready(timeout):
                return self
            last_err = self.log_tail()
            self.stop()
        raise RuntimeError(f"knotd did not start: {last_err}")

    def _wait_ready(self, timeout: float) -> bool:
        probe_zone = next(iter(self.zones), None)
        signed = {z.rstrip(".").lower() for z in self.signed}
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            ok = True
            for zone in ([probe_zone] if probe_zone else []) + sorted(signed):
                try:
                    q = dns.message.make_query(zone + ".", "DNSKEY" if zone in signed else "SOA")
                    r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.3)
                    if r.rcode() != dns.rcode.NOERROR or not r.answer:
                        ok = False
                except Exception:
                    ok = False
            if ok:
                return True
            time.sleep(0.05)
        return False

    def knotc(self, *args: str) -> str:
        bins = knot_binaries()
        out = subprocess.run([bins["knotc"], "-c", str(self.workdir / "knot.conf"), *args],
                             capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(args)}: {out.stdout}{out.stderr}")
        return out.stdout

    def ds_records(self, zone: str) -> list[str]:
        """DS rdata (presentation) for a signed zone's KSK, from keymgr: 'keytag alg digesttype digest'."""
        bins = knot_binaries()
        out = subprocess.run([bins["keymgr"], "-c", str(self.workdir / "knot.conf"), zone.rstrip(".") + ".", "ds"],
                             capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise RuntimeError(f"keymgr ds: {out.stderr}")
        rdatas = []
        for line in out.stdout.splitlines():
            parts = line.split()
            if "DS" in parts:
                rdatas.append(" ".join(parts[parts.index("DS") + 1:]))
        return rdatas

    def reload_zone(self, name: str, text: str) -> None:
        (self.workdir / "zones" / f"{name.rstrip('.').lower()}.zone").write_text(text)
        self.knotc("zone-reload", name.rstrip(".") + ".")

    def log_tail(self, n: int = 2000) -> str:
        try:
            return (self.workdir / "knotd.log").read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> KnotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
