#!/usr/bin/env python3
"""Guard benchmark: replay a generated 1,000,000-line sshd auth log with
`rampart guard --replay` (release build) and, side by side, `fail2ban-regex LOG sshd`
and sshguard's `sshg-parser`; wall time and peak RSS from GNU time; ratios; and a check
of rampart's ban decisions against the generator's list of attacking and legitimate
addresses.

usage: bench/guard/run.py [--lines N] [--keep DIR] [--no-peers] [--rampart PATH]
Run from the repository root, as root (installs `time` if missing).
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def need_time():
    if not os.path.exists("/usr/bin/time"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "time"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def measure(argv, stdin=None, stdout=None):
    """Runs argv under GNU time; returns (wall seconds, peak RSS KiB, exit code)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + argv, stdin=stdin,
                           stdout=stdout or subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = open(tf.name).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)", text).group(1)
    parts = [float(x) for x in wall.split(":")]
    secs = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return secs, rss, p.returncode


def unit(a):
    ip = ipaddress.ip_address(a)
    if ip.version == 6:
        return str(ipaddress.ip_network(a + "/64", strict=False))
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--keep", help="work directory to keep (default: a temporary one)")
    ap.add_argument("--no-peers", action="store_true", help="skip fail2ban-regex and sshg-parser")
    ap.add_argument("--rampart", default=os.path.join(ROOT, "target", "release", "rampart"))
    args = ap.parse_args()
    need_time()

    work = args.keep or tempfile.mkdtemp(prefix="rampart-guard-bench-")
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "auth.log")
    if not os.path.exists(log):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_sshd_log.py"), log, str(args.lines)], check=True)
    lines = sum(1 for _ in open(log, "rb"))
    if not os.path.exists(args.rampart):
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "rampart"], cwd=ROOT, check=True)

    # A config of our own: never the host's /etc/rampart (defaults: 5 in 10 min, 20 in 12 h).
    cfg = os.path.join(work, "rampart.toml")
    with open(cfg, "w") as f:
        f.write("[guard]\ndb = %r\nstatus_file = %r\n" % (os.path.join(work, "db"), os.path.join(work, "st.json")))

    results = {}
    out_path = os.path.join(work, "rampart.jsonl")
    with open(out_path, "w") as out:
        results["rampart"] = measure([args.rampart, "guard", "--config", cfg, "--replay", log, "--json"], stdout=out)
    events = [json.loads(l) for l in open(out_path)]
    summary = events[-1]
    banned = {e["net"] for e in events if e["type"] == "ban"}

    if not args.no_peers:
        if shutil.which("fail2ban-regex"):
            with open(os.path.join(work, "fail2ban.txt"), "w") as out:
                results["fail2ban-regex"] = measure(["fail2ban-regex", log, "sshd"], stdout=out)
        parser = "/usr/libexec/sshguard/sshg-parser"
        if os.path.exists(parser):
            with open(log, "rb") as inp, open(os.path.join(work, "sshguard.txt"), "w") as out:
                results["sshg-parser"] = measure([parser], stdin=inp, stdout=out)

    attackers = [a for a in open(log + ".attackers").read().split()]
    legit = [a for a in open(log + ".legit").read().split()]
    missed = [a for a in attackers if unit(a) not in banned]
    wrong = [a for a in legit if unit(a) in banned]

    print("\nGuard replay benchmark: %d lines (%s)" % (lines, log))
    print("%-16s %10s %12s %12s" % ("tool", "wall s", "lines/s", "peak RSS MB"))
    for name, (secs, rss, rc) in results.items():
        print("%-16s %10.3f %12.0f %12.1f%s" % (name, secs, lines / max(secs, 1e-9), rss / 1024,
                                              "" if rc == 0 else "  (exit %d)" % rc))
    r_secs, r_rss, _ = results["rampart"]
    for name, (secs, rss, _) in results.items():
        if name != "rampart":
            print("rampart vs %-14s time ratio %.1fx (rampart faster when > 1), peak RSS ratio %.2fx "
                  "(rampart smaller when > 1)" % (name + ":", secs / max(r_secs, 1e-9), rss / max(r_rss, 1)))
    print("rampart internal: %.0f lines/s (parse+detect, excluding start-up)" % summary["lines_per_sec"])
    c = summary["counters"]
    print("rampart counters: parsed %d, failures %d, successes %d, unparsed %d, bans %d" % (
        c["parsed"], c["failures"], c["successes"], c["unparsed"], c["bans"]))
    print("ban decisions: %d/%d attacking addresses banned, %d/%d legitimate addresses banned" % (
        len(attackers) - len(missed), len(attackers), len(wrong), len(legit)))
    if missed:
        print("  missed (first 10):", " ".join(missed[:10]))
    if wrong:
        print("  wrongly banned (first 10):", " ".join(wrong[:10]))
    ok = not missed and not wrong
    print("RESULT:", "OK" if ok else "WRONG DECISIONS")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
