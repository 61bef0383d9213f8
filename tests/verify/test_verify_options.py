"""verify's pins accept ASCII digits only: a port or address typed with other digits is one line of
bad input (exit 2), never a ValueError or a silently different port."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.dnsclient import NameserverSpecError, parse_nameserver, parse_port
from verify.fetch import ConnectToError, parse_connect_to

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", ["127.0.0.1:²", "[::1]:²", "127.0.0.1:" + "9" * 5000, "127.0.0.1:٣", "127.0.0.1:+53",
                                  "127.0.0.1: 53", "127.0.0.1:5_3", "127.0.0.1:0", "127.0.0.1:65536", "１２７.0.0.1"])
def test_odd_nameservers_are_bad_input(text):
    with pytest.raises(NameserverSpecError, match="bad --nameserver"):
        parse_nameserver(text)


@pytest.mark.parametrize("text", ["app.example.com:443:127.0.0.1:٣", "a:²:127.0.0.1:443", "a:443:127.0.0.1:99999",
                                  "a:443:127.0.0.1:+1", "a:443::443", "a:443:127.0.0.1:",
                                  ":x:127.0.0.1:443"])
def test_odd_connect_to_is_bad_input(text):
    with pytest.raises(ConnectToError, match="bad --connect-to"):
        parse_connect_to(text)


def test_good_pins_still_parse():
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:53") == ("::1", 53)
    assert parse_connect_to("App.example.com:443:[::1]:8443") == (("app.example.com", 443), ("::1", 8443))


def test_curls_empty_host_and_port_pin_any():
    """`::127.0.0.1:8443` (curl: an empty HOST or PORT matches any) pins every host of a wildcard tenant group
    with one option; an exact pin still wins over it."""
    from verify.webclient import pin_for

    assert parse_connect_to(":443:127.0.0.1:8443") == (("", 443), ("127.0.0.1", 8443))
    assert parse_connect_to("::127.0.0.1:8443") == (("", 0), ("127.0.0.1", 8443))
    assert parse_connect_to("a.example.com::127.0.0.1:9") == (("a.example.com", 0), ("127.0.0.1", 9))
    pins = dict(parse_connect_to(p) for p in (":443:127.0.0.1:8443", "app.example.com:443:127.0.0.1:9443"))
    assert pin_for(pins, "acme.portal.example.com", 443) == ("127.0.0.1", 8443)
    assert pin_for(pins, "App.Example.com.", 443) == ("127.0.0.1", 9443)
    assert pin_for(pins, "acme.portal.example.com", 80) is None
    assert pin_for({}, "a", 443) is None


@given(st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_parsers_raise_only_their_own_error(text):
    for parse, error in ((parse_nameserver, NameserverSpecError), (parse_connect_to, ConnectToError)):
        try:
            parse(text)
        except error:
            pass
    port = parse_port(text)
    assert port is None or (text.isascii() and 0 < port < 65536)


def test_cli_odd_port_is_exit_2_with_one_line(capsys):
    from verify.cli import main

    assert main(["--stack", "example", "--nameserver", "127.0.0.1:²"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad --nameserver" in err and "Traceback" not in err


def test_a_loop_found_after_following_a_cname_is_named_from_the_start(monkeypatch):
    """a -> b (answered by one zone), then b's zone answers b -> c -> b: the loop is named a -> b -> c -> b."""
    from verify.dnsclient import CNAME_LOOP, DnsAnswer, DnsClient

    answers = {
        "a.example.com": DnsAnswer("a.example.com", "A", "nodata", cname_chain=("b.example.net",)),
        "b.example.net": DnsAnswer("b.example.net", "A", "failed", failure="CNAME loop", failure_type=CNAME_LOOP,
                                   cname_chain=("b.example.net", "c.example.net", "b.example.net")),
    }
    client = DnsClient([("127.0.0.1", 53)])
    monkeypatch.setattr(client, "_query_once", lambda name, rdtype, dnssec=False: answers[name.rstrip(".")])
    ans = client.query("a.example.com", "A")
    assert ans.failure_type == CNAME_LOOP and ans.qname == "a.example.com"
    assert ans.cname_chain == ("a.example.com", "b.example.net", "c.example.net", "b.example.net")
