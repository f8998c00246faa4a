"""`python -m harness.proxy`: the fault proxy server, with toxiproxy-server's flags.

python -m harness.proxy -host 127.0.0.1 -port 8474 [-config proxies.json]
    [--proxy inventory=127.0.0.1:18002=127.0.0.1:18001 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from harness.proxy.config import ConfigError, load_config, parse_proxy_flag
from harness.proxy.server import Settings, run


def parse_args(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m harness.proxy", description="Toxiproxy-compatible fault proxy")
    parser.add_argument("-host", "--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    parser.add_argument("-port", "--port", type=int, default=8474, help="API port (default 8474, 0: any free port)")
    parser.add_argument("-config", "--config", type=Path, help="JSON list of proxies to create, like a /populate body")
    parser.add_argument("-seed", "--seed", type=int, help="seed for toxicity and jitter")
    parser.add_argument(
        "--proxy",
        action="append",
        default=[],
        metavar="NAME=LISTEN=UPSTREAM",
        help="a proxy to create at start (repeatable); LISTEN and UPSTREAM are host:port",
    )
    parser.add_argument(
        "--half-close-idle-s",
        type=float,
        default=5.0,
        help="after one direction ends, close both once the other idles this long (default 5)",
    )
    parser.add_argument("--no-zero-copy", action="store_true", help="copy through Python instead of os.splice")
    args = parser.parse_args(argv)
    try:
        proxies = load_config(args.config) if args.config else []
        proxies += [parse_proxy_flag(value) for value in args.proxy]
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    names = [entry.name for entry in proxies]
    if len(set(names)) != len(names):
        parser.exit(2, f"{parser.prog}: error: a proxy name is used twice: {sorted(names)}\n")
    return Settings(
        host=args.host,
        port=args.port,
        proxies=tuple(proxies),
        seed=args.seed,
        half_close_idle_s=args.half_close_idle_s,
        zero_copy=not args.no_zero_copy,
    )


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s harness.proxy[%(process)d] %(message)s",
    )
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
