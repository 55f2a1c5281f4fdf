"""Serve one directory read-only to anonymous users with pyftpdlib.

Usage: serve_pyftpdlib.py ROOT [--host 127.0.0.1] [--port 0]

Prints "PORT <n>" on stdout once listening, then serves until killed or until
stdin is closed (so the server never outlives the benchmark harness).
"""

import argparse
import logging
import os
import sys
import threading

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--passive-ports",
        default="20000-21999",
        help="passive port range FIRST-LAST; bound with SO_REUSEADDR, so the "
        "TIME_WAIT connection each file leaves behind does not use up the "
        "kernel's ephemeral ports",
    )
    args = parser.parse_args()

    # Per-command logging would dominate the cost of small transfers.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)

    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(os.path.abspath(args.root), perm="elr")
    handler = FTPHandler
    handler.authorizer = authorizer
    handler.banner = "pyftpdlib benchmark server"
    handler.timeout = 120
    handler.permit_foreign_addresses = False
    first, last = (int(p) for p in args.passive_ports.split("-"))
    handler.passive_ports = range(first, last + 1)

    server = FTPServer((args.host, args.port), handler)
    server.max_cons = 1024
    server.max_cons_per_ip = 0
    port = server.socket.getsockname()[1]
    print(f"PORT {port}", flush=True)

    def watch_stdin():
        try:
            sys.stdin.read()
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever(handle_exit=False)


if __name__ == "__main__":
    main()
