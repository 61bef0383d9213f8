"""Broken DNS servers on 127.0.0.1 (UDP and TCP on one port), for "could not check" tests.

Modes, the ways real nameservers fail:
  slow       answers correctly, but only after `delay` seconds (beyond the per-query timeout)
  silent     never answers (a firewall dropping packets)
  garbled    answers with bytes that are not a DNS message (the query id kept, the rest junk)
  truncated  sets TC on every UDP answer and resets TCP connections, so no full answer ever arrives
  formerr    answers FORMERR to everything (an old middlebox that does not understand EDNS)

Answers in "slow" mode come from `zone_server` (another server, e.g. the world's knotd), so the
content would be right if it arrived in time.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.query
import dns.rcode

MODES = ("slow", "silent", "garbled", "truncated", "formerr")


@dataclass
class FaultyDnsServer:
    mode: str
    delay: float = 5.0
    zone_server: tuple[str, int] | None = None
    port: int = 0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> FaultyDnsServer:
        self._bind()
        self._tcp.listen(16)
        self._udp.settimeout(0.1)
        self._tcp.settimeout(0.1)
        for target in (self._serve_udp, self._serve_tcp):
            t = threading.Thread(target=target, daemon=True, name=f"faulty-dns-{self.mode}")
            t.start()
            self._threads.append(t)
        return self

    def _bind(self) -> None:
        """One port for UDP and TCP: the UDP port the kernel picks may be taken for TCP (by another
        server of the same test run); pick again rather than fail with EADDRINUSE."""
        for _ in range(50):
            self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._udp.bind(("127.0.0.1", 0))
            self.port = self._udp.getsockname()[1]
            self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self._tcp.bind(("127.0.0.1", self.port))
                return
            except OSError:
                self._udp.close()
                self._tcp.close()
        raise OSError("no port free for both UDP and TCP on 127.0.0.1 after 50 tries")

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        self._udp.close()
        self._tcp.close()

    def __enter__(self) -> FaultyDnsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ answers

    def _answer(self, wire: bytes, tcp: bool) -> bytes | None:
        if self.mode == "silent":
            return None
        if self.mode == "garbled":
            return wire[:2] + b"\x81\x80\x00\x01\x00\x05\x00\x00\x00\x00" + b"\xde\xad\xbe\xef" * 7
        try:
            q = dns.message.from_wire(wire)
        except Exception:
            return None
        if self.mode == "formerr":
            r = dns.message.make_response(q)
            r.set_rcode(dns.rcode.FORMERR)
            return r.to_wire()
        if self.mode == "truncated":
            r = dns.message.make_response(q)
            r.flags |= dns.flags.TC
            return r.to_wire()
        # slow: the right answer, too late
        time.sleep(self.delay)
        if self._stop.is_set():
            return None
        if self.zone_server is None:
            r = dns.message.make_response(q)
            r.set_rcode(dns.rcode.SERVFAIL)
            return r.to_wire()
        try:
            return dns.query.udp(q, self.zone_server[0], port=self.zone_server[1], timeout=2).to_wire()
        except Exception:
            return None

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._udp.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._reply_udp, args=(wire, peer), daemon=True).start()

    def _reply_udp(self, wire: bytes, peer) -> None:
        out = self._answer(wire, tcp=False)
        if out is not None and not self._stop.is_set():
            try:
                self._udp.sendto(out, peer)
            except OSError:
                pass

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._reply_tcp, args=(conn,), daemon=True).start()

    def _reply_tcp(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "truncated":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
                return
            conn.settimeout(2)
            try:
                n = struct.unpack("!H", _recv(conn, 2))[0]
                wire = _recv(conn, n)
            except (OSError, struct.error):
                return
            out = self._answer(wire, tcp=True)
            if out is not None and not self._stop.is_set():
                try:
                    conn.sendall(struct.pack("!H", len(out)) + out)
                except OSError:
                    pass


def _recv(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf
