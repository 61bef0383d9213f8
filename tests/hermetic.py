"""The hermetic guard: nothing may leave 127.0.0.0/8 or resolve a name through the system resolver.

Installed in the test process by tests/conftest.py and, through tests/hermetic_site/sitecustomize.py
on PYTHONPATH, in every Python subprocess the tests start (the CLI tests run `launchready` that way).
A violation raises HermeticViolation and is recorded, in memory and, when LAUNCHREADY_HERMETIC_LOG
names a file, in that file too, so the test that caused it fails even if the code swallowed the error
or it happened in a child process.
"""
from __future__ import annotations

import ipaddress
import os
import socket

LOG_ENV = "LAUNCHREADY_HERMETIC_LOG"


class HermeticViolation(OSError):
    """A test tried to leave 127.0.0.0/8 or to use the system resolver."""


_VIOLATIONS: list[str] = []
_ORIG = {}


def _loopback(host) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_literal(host) -> bool:
    try:
        ipaddress.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False


def _check_address(address, what: str) -> None:
    if isinstance(address, tuple) and address and isinstance(address[0], (str, bytes)):
        host = address[0].decode() if isinstance(address[0], bytes) else address[0]
        if host == "localhost":
            return
        if not _loopback(host):
            msg = f"hermetic guard: {what} to {address!r} leaves 127.0.0.0/8"
            _record(msg)
            raise HermeticViolation(msg)


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check_address(address, "connect")
    return _ORIG["connect"](self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check_address(address, "connect_ex")
    return _ORIG["connect_ex"](self, address)


def _guarded_sendto(self, data, *args):
    address = args[-1] if args else None
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check_address(address, "sendto")
    return _ORIG["sendto"](self, data, *args)


def _guarded_getaddrinfo(host, *args, **kwargs):
    h = host.decode() if isinstance(host, bytes) else host
    if h is not None and h != "localhost" and not _is_literal(h):
        msg = f"hermetic guard: name resolution of {h!r} through the system resolver"
        _record(msg)
        raise HermeticViolation(msg)
    return _ORIG["getaddrinfo"](host, *args, **kwargs)


def _guarded_create_connection(address, *args, **kwargs):
    _check_address(address, "create_connection")
    return _ORIG["create_connection"](address, *args, **kwargs)


def _record(msg: str) -> None:
    _VIOLATIONS.append(msg)
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{msg} (pid {os.getpid()})\n")


def violations() -> list[str]:
    return _VIOLATIONS


def install() -> None:
    if _ORIG:
        return
    _ORIG.update(connect=socket.socket.connect, connect_ex=socket.socket.connect_ex,
                 sendto=socket.socket.sendto, getaddrinfo=socket.getaddrinfo,
                 create_connection=socket.create_connection)
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.socket.sendto = _guarded_sendto
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.create_connection = _guarded_create_connection
