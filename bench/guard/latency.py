#!/usr/bin/env python3
"""Guard latency benchmark: time from a failure line appended to a followed file to
its address being in the nftables ban set, measured with `nft monitor` in a network
namespace this script creates. Runs `rampart guard` (release build) with a rule of
one failure → ban, so every line is one sample.

usage: bench/guard/latency.py [--samples N] [--rampart PATH]   (as root)
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--rampart", default=os.path.join(ROOT, "target", "release", "rampart"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("latency.py: needs root (network namespace, nft)")
    ns = "rampart-lat-%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="rampart-guard-lat-")
    log = os.path.join(work, "auth.log")
    open(log, "w").close()
    cfg = os.path.join(work, "rampart.toml")
    with open(cfg, "w") as f:
        f.write("""[guard]
db = "%s/db"
status_file = "%s/status.json"
netns = "%s"
auto_sources = false
journal = "off"
burst = { count = 1, window = "1m" }
[[guard.source]]
path = "%s"
""" % (work, work, ns, log))
    subprocess.run(["ip", "netns", "add", ns], check=True)
    daemon = monitor = None
    seen = {}
    try:
        monitor = subprocess.Popen(["ip", "netns", "exec", ns, "nft", "monitor"], stdout=subprocess.PIPE,
                                   text=True, bufsize=1)

        def watch():
            for line in monitor.stdout:
                now = time.monotonic()
                m = re.search(r"add element inet rampart banned4 \{ ([0-9.]+)", line)
                if m:
                    seen.setdefault(m.group(1), now)

        threading.Thread(target=watch, daemon=True).start()
        daemon = subprocess.Popen([args.rampart, "guard", "--config", cfg], stderr=subprocess.DEVNULL)
        status = os.path.join(work, "status.json")
        deadline = time.monotonic() + 10
        while not os.path.exists(status):
            if time.monotonic() > deadline:
                sys.exit("rampart guard did not start")
            time.sleep(0.05)
        time.sleep(0.3)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        lat = []
        lost = 0
        for i in range(args.samples):
            a = "10.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, i % 250 + 1)
            line = "Nov 25 14:57:00 h sshd[%d]: Failed password for root from %s port %d ssh2\n" % (i, a, 1024 + i)
            t0 = time.monotonic()
            os.write(fd, line.encode())
            deadline = t0 + 2
            while a not in seen and time.monotonic() < deadline:
                time.sleep(0.0002)
            if a in seen:
                lat.append((seen[a] - t0) * 1000)
            else:
                lost += 1
            time.sleep(random.uniform(0.005, 0.03))
        os.close(fd)
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(5)
        if monitor:
            monitor.terminate()
        subprocess.run(["ip", "netns", "del", ns])
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))]

    print("Guard latency (append → address in the nft set), %d samples, %d not seen within 2 s:" % (len(lat), lost))
    print("  p50 %.1f ms   p90 %.1f ms   p99 %.1f ms   max %.1f ms" % (pct(50), pct(90), pct(99), lat[-1]))
    print("RESULT:", "OK" if lost == 0 and pct(99) < 50 else "SLOW")
    return 0 if lost == 0 and pct(99) < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
