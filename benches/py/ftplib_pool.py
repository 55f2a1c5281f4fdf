"""Mirror an FTP tree with a pool of ftplib sessions: what most scripts do.

Usage: ftplib_pool.py --host H --port P --dest DIR --sessions N

N threads, each with its own FTP session, share one queue of work items
(directories to list with MLSD, files to fetch with RETR). Exits 1 when any
item failed.
"""

import argparse
import ftplib
import os
import queue
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dest", required=True)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    work = queue.Queue()
    work.put(("dir", ""))
    errors = []
    lock = threading.Lock()

    def connect():
        ftp = ftplib.FTP()
        ftp.connect(args.host, args.port, timeout=args.timeout)
        ftp.login()
        return ftp

    def worker():
        try:
            ftp = connect()
        except Exception as e:  # noqa: BLE001 - retried on the first item
            with lock:
                errors.append(f"login: {e!r}")
            ftp = None
        while True:
            kind, path = work.get()
            if kind == "stop":
                work.task_done()
                break
            try:
                if ftp is None:
                    ftp = connect()
                local = os.path.join(args.dest, path)
                if kind == "dir":
                    os.makedirs(local, exist_ok=True)
                    for name, facts in ftp.mlsd("/" + path, facts=["type"]):
                        kind_of = facts.get("type", "")
                        child = f"{path}/{name}" if path else name
                        if kind_of == "dir":
                            work.put(("dir", child))
                        elif kind_of == "file":
                            work.put(("file", child))
                else:
                    with open(local, "wb") as f:
                        ftp.retrbinary("RETR /" + path, f.write, blocksize=65536)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                with lock:
                    errors.append(f"{kind} {path}: {e!r}")
                # The session may be broken: start a new one for the next item.
                if ftp is not None:
                    ftp.close()
                ftp = None
            finally:
                work.task_done()
        if ftp is not None:
            try:
                ftp.quit()
            except Exception:  # noqa: BLE001
                ftp.close()

    os.makedirs(args.dest, exist_ok=True)
    threads = [threading.Thread(target=worker) for _ in range(args.sessions)]
    for t in threads:
        t.start()
    work.join()
    for _ in threads:
        work.put(("stop", ""))
    for t in threads:
        t.join()
    for e in errors[:10]:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
