"""Throughput of the JS-bundle secret scan (infra.knowledge.bundlesecrets.scan_text) on a generated
single-line 5 MB bundle, and on the worst inputs found (one anchor repeated over 5 MB).

  python benchmarks/bench_bundlesecrets.py [--mb 5] [--repeat 3] [--adversarial] [FILE ...]

The generated bundle mixes minified-looking code, string tables, base64 data URIs (fonts, images:
what fills real bundles) and a few public values (Stripe publishable key, Supabase anon JWT); FILE
arguments (real bundles) are scanned too. Target: a 5 MB bundle well under 1 s.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.knowledge.bundlesecrets import scan_text  # noqa: E402

PIECES = ['function(e,t){return e.map(function(n){return n*t})}', 'var a=Object.assign({},e,{key:t});',
          '"use strict";', 'e.prototype.render=function(){return this.props.children};', 'if(!e)throw new Error("x");',
          'fetch("https://api.example.com/v1/items?page="+n).then(function(r){return r.json()});',
          'const o={apiUrl:"https://portal.example.com",timeout:3e4,retries:3};', 'a&&b||c?d:e;']


def generated_bundle(mb: float, seed: int = 7) -> str:
    rnd = random.Random(seed)
    anon = ".".join(base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
                    for d in ({"alg": "HS256"}, {"role": "anon", "iss": "supabase"})) + ".sig"
    out, size = [], 0
    while size < mb * 1_000_000:
        r = rnd.random()
        if r < 0.02:
            piece = 'src:url(data:font/woff2;base64,' + base64.b64encode(os.urandom(rnd.randint(200, 4000))).decode() + ')'
        elif r < 0.025:
            piece = f'createClient("https://x.supabase.co","{anon}");loadStripe("pk_live_{"a1B2" * 6}");'
        else:
            piece = rnd.choice(PIECES)
        out.append(piece)
        size += len(piece)
    return "".join(out)


def measure(name: str, text: str, repeat: int) -> None:
    best = min(_timed(text) for _ in range(repeat))
    hits = scan_text(text)
    print(f"{name:40.40s} {len(text) / 1e6:6.2f} MB  {best:6.3f} s  {len(text) / 1e6 / best:7.1f} MB/s  hits={len(hits)}")


def _timed(text: str) -> float:
    t = time.perf_counter()
    scan_text(text)
    return time.perf_counter() - t


ADVERSARIAL = ["eyJ", "://", "aws", "-us1", "ghp_", "glagent-", "xoxb-1-", "AKC", "T3BlbkFJ", "postmark",
               "cloudflare", "sk_live_" + "a" * 30, "1234567890:" + "a" * 40, "a" * 31 + "-us1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--adversarial", action="store_true", help="also time one anchor repeated over --mb MB")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    scan_text("warm up: compile the patterns, import the plugins")
    measure("generated bundle", generated_bundle(args.mb), args.repeat)
    for f in args.files:
        measure(str(f), f.read_text(encoding="utf-8", errors="replace"), args.repeat)
    if args.adversarial:
        n = int(args.mb * 1_000_000)
        for unit in ADVERSARIAL:
            measure(f"repeated {unit!r}", (unit * (n // len(unit) + 1))[:n], 1)


if __name__ == "__main__":
    main()
