"""A pyftpdlib server for the integration tests.

Started by `ftp_mirror_tests::pyftpd::PyFtpd`. It binds HOST:0, prints the
bound port alone on the first line of stdout, then serves until it is killed,
until its stdin is closed (the test process went away) or until --lifetime
seconds have passed, whichever comes first. Log lines go to stderr.

Exit status 3 means pyftpdlib is not installed for this interpreter.
"""

import argparse
import logging
import os
import sys
import threading

try:
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
    from pyftpdlib.servers import FTPServer
except ImportError as exc:  # reported by the Rust side with a hint
    print(f"pyftpdlib is not importable: {exc}", file=sys.stderr, flush=True)
    sys.exit(3)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", required=True, help="directory to serve")
    p.add_argument("--host", default="127.0.0.1", help="address to bind")
    p.add_argument("--user", help="user name of the one password account")
    p.add_argument("--password", default="", help="password of --user")
    p.add_argument("--perm", default="elr", help="pyftpdlib permissions of --user")
    p.add_argument("--anonymous", action="store_true", help="allow anonymous login")
    p.add_argument("--anon-perm", default="elr", help="pyftpdlib permissions of anonymous")
    p.add_argument("--no-mlst", action="store_true", help="remove MLST/MLSD (FEAT no longer offers them)")
    p.add_argument("--max-download-rate", type=int, default=0, help="bytes per second per data connection (0: no limit)")
    p.add_argument("--no-stat-paths", action="store_true", help="answer STAT with a path with 504")
    p.add_argument("--max-cons-per-ip", type=int, default=0, help="0 means unlimited")
    p.add_argument("--max-cons", type=int, default=512)
    p.add_argument("--banner", help="text of the 220 greeting")
    p.add_argument("--lifetime", type=float, default=600.0, help="exit after this many seconds")
    p.add_argument("--log-level", default="WARNING")
    return p.parse_args()


def exit_when_stdin_closes():
    """Exit as soon as the parent closes our stdin or dies."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    args = parse_args()
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.WARNING),
        stream=sys.stderr,
        format="pyftpd %(levelname)s %(message)s",
    )

    authorizer = DummyAuthorizer()
    if args.user:
        authorizer.add_user(args.user, args.password, args.root, perm=args.perm)
    if args.anonymous:
        authorizer.add_anonymous(args.root, perm=args.anon_perm)

    proto_cmds = dict(FTPHandler.proto_cmds)
    if args.no_mlst:
        proto_cmds.pop("MLST", None)
        proto_cmds.pop("MLSD", None)

    class Handler(FTPHandler):
        pass

    if args.max_download_rate:
        class Dtp(ThrottledDTPHandler):
            write_limit = args.max_download_rate

        Handler.dtp_handler = Dtp

    if args.no_stat_paths:
        def ftp_STAT(self, path):
            if path:
                self.respond("504 STAT with a path is not implemented.")
                return None
            return FTPHandler.ftp_STAT(self, path)

        Handler.ftp_STAT = ftp_STAT

    Handler.authorizer = authorizer
    Handler.proto_cmds = proto_cmds
    # A wrong password is answered at once instead of after 3 s.
    Handler.auth_failed_timeout = 0.05
    Handler.timeout = 60
    if args.banner:
        Handler.banner = args.banner

    server = FTPServer((args.host, 0), Handler)
    server.max_cons = args.max_cons
    server.max_cons_per_ip = args.max_cons_per_ip

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    timer = threading.Timer(args.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()

    print(server.address[1], flush=True)
    server.serve_forever(handle_exit=False)


if __name__ == "__main__":
    main()
