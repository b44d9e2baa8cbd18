#!/usr/bin/env python3
"""Generates a syslog auth log of sshd traffic for the guard benchmark.

A day of traffic on one server: legitimate users (sessions, an occasional mistyped
password), password brute force, invalid-user dictionaries (some user names carry a
legitimate user's address, to try to frame it), key-only probes, scanners, and slow
brute force spread over hours; plus CRON/sudo/logind noise. 15% of the addresses are
IPv6 (each in its own /64). Writes LOG and, next to it, LOG.attackers and LOG.legit
(one address per line) so the benchmark can check the ban decisions.

usage: gen_sshd_log.py OUT [LINES] [SEED]
"""

import random
import sys
import time

out = sys.argv[1]
target = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)

T0 = 1764028800  # 2025-11-25 00:00:00 UTC
DAY = 86400
HOST = "web01"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

used_v4 = set()
used_v6 = set()


def addr(v6_share=0.15):
    if rng.random() < v6_share:
        while True:
            p = (0x2001, 0xDB8, rng.randrange(1 << 16), rng.randrange(1 << 16))
            if p not in used_v6:
                used_v6.add(p)
                return "%x:%x:%x:%x:%x:%x:%x:%x" % (p + tuple(rng.randrange(1 << 16) for _ in range(4)))
    while True:
        a = "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        first = int(a.split(".")[0])
        if first in (10, 127) or a in used_v4:
            continue
        used_v4.add(a)
        return a


def port():
    return rng.randrange(1024, 65535)


def pid():
    return rng.randrange(1000, 4_000_000)


events = []  # (time, program, pid, message)


def emit(t, msg, prog="sshd", p=None):
    events.append((t, prog, p if p is not None else pid(), msg))


USERS = ["alice", "bob", "carol", "deploy", "www", "git", "backup", "ops"]
DICT = ["admin", "test", "user", "oracle", "postgres", "ubuntu", "guest", "ftpuser", "pi", "support",
        "mysql", "hadoop", "nagios", "git", "dev", "jenkins", "minecraft", "steam", "ts3", "apache"]

legit, attackers = [], []


def legit_actor():
    a = addr()
    legit.append(a)
    user = rng.choice(USERS)
    n = rng.randrange(5, 30)
    fails_left = 3  # a few typos a day, never a burst
    for _ in range(n):
        t = T0 + rng.randrange(DAY - 3600)
        pp, sp = port(), pid()
        if fails_left and rng.random() < 0.08:
            fails_left -= 1
            emit(t, "Failed password for %s from %s port %d ssh2" % (user, a, pp), p=sp)
            t += rng.randrange(2, 6)
        method = rng.choice(["publickey", "publickey", "password"])
        suffix = ": ED25519 SHA256:%016x" % rng.getrandbits(64) if method == "publickey" else ""
        emit(t, "Accepted %s for %s from %s port %d ssh2%s" % (method, user, a, pp, suffix), p=sp)
        emit(t, "pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)" % user, p=sp)
        emit(t, "New session 1 of user %s." % user, prog="systemd-logind", p=400)
        end = t + rng.randrange(30, 3000)
        emit(end, "Received disconnect from %s port %d:11: disconnected by user" % (a, pp), p=sp)
        emit(end, "Disconnected from user %s %s port %d" % (user, a, pp), p=sp)
        emit(end, "pam_unix(sshd:session): session closed for user %s" % user, p=sp)


def burst_actor():
    a = addr()
    attackers.append(a)
    t = T0 + rng.randrange(DAY - 7200)
    for _ in range(rng.randrange(3, 25)):
        pp, sp = port(), pid()
        user = rng.choice(["root", "root", "admin", "ubuntu"])
        tries = rng.randrange(2, 7)  # at least 6 failures per attacker
        for i in range(tries):
            emit(t, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s" % (a, user), p=sp)
            emit(t, "Failed password for %s from %s port %d ssh2" % (user, a, pp), p=sp)
            t += rng.randrange(1, 4)
        if tries == 6:
            emit(t, "error: maximum authentication attempts exceeded for %s from %s port %d ssh2 [preauth]" % (user, a, pp), p=sp)
            emit(t, "Disconnecting authenticating user %s %s port %d: Too many authentication failures [preauth]" % (user, a, pp), p=sp)
        else:
            emit(t, "Connection closed by authenticating user %s %s port %d [preauth]" % (user, a, pp), p=sp)
        t += rng.randrange(1, 20)


def dictionary_actor():
    a = addr()
    attackers.append(a)
    t = T0 + rng.randrange(DAY - 7200)
    for _ in range(rng.randrange(3, 40)):
        pp, sp = port(), pid()
        user = rng.choice(DICT)
        if legit and rng.random() < 0.05:
            # Log injection: a user name that ends like a real line of a legitimate address.
            user = "x from %s port 22 ssh2" % rng.choice(legit)
        emit(t, "Invalid user %s from %s port %d" % (user, a, pp), p=sp)
        emit(t, "pam_unix(sshd:auth): check pass; user unknown", p=sp)
        emit(t + 2, "Failed password for invalid user %s from %s port %d ssh2" % (user, a, pp), p=sp)
        emit(t + 3, "Connection closed by invalid user %s %s port %d [preauth]" % (user, a, pp), p=sp)
        t += rng.randrange(3, 30)


def key_probe_actor():
    a = addr()
    attackers.append(a)
    t = T0 + rng.randrange(DAY - 7200)
    for _ in range(rng.randrange(5, 30)):
        emit(t, "Connection closed by authenticating user root %s port %d [preauth]" % (a, port()))
        t += rng.randrange(2, 60)


def scanner_actor():
    a = addr()
    attackers.append(a)
    t = T0 + rng.randrange(DAY - 7200)
    for _ in range(rng.randrange(5, 15)):
        k = rng.randrange(4)
        pp = port()
        if k == 0:
            emit(t, "banner exchange: Connection from %s port %d: invalid format" % (a, pp))
        elif k == 1:
            emit(t, 'kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.1"')
            emit(t, "banner exchange: Connection from %s port %d: invalid format" % (a, pp))
        elif k == 2:
            emit(t, "Connection closed by %s port %d [preauth]" % (a, pp))
        else:
            emit(t, "Unable to negotiate with %s port %d: no matching key exchange method found. "
                    "Their offer: diffie-hellman-group1-sha1 [preauth]" % (a, pp))
        t += rng.randrange(5, 50)


def slow_actor():
    a = addr()
    attackers.append(a)
    t = T0 + rng.randrange(DAY // 2)
    for _ in range(rng.randrange(22, 35)):
        pp, sp = port(), pid()
        emit(t, "Failed password for root from %s port %d ssh2" % (a, pp), p=sp)
        emit(t + 1, "Connection closed by authenticating user root %s port %d [preauth]" % (a, pp), p=sp)
        t += rng.randrange(900, 1500)


def noise():
    t = T0 + rng.randrange(DAY)
    k = rng.randrange(3)
    if k == 0:
        p = pid()
        emit(t, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", prog="CRON", p=p)
        emit(t + 1, "pam_unix(cron:session): session closed for user root", prog="CRON", p=p)
    elif k == 1:
        emit(t, "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update", prog="sudo")
    else:
        emit(t, "Removed session 3.", prog="systemd-logind", p=400)


# Shares of lines: legitimate 30%, attacks 60%, noise (to the exact count) 10%.
while len(events) < target * 0.30:
    legit_actor()
kinds = [burst_actor] * 40 + [dictionary_actor] * 25 + [key_probe_actor] * 15 + [scanner_actor] * 10 + [slow_actor] * 10
while len(events) < target * 0.90:
    rng.choice(kinds)()
while len(events) < target:
    noise()
# Whole actors only: trim noise, never an attacker's or user's lines.
while len(events) > target:
    i = next(i for i in range(len(events) - 1, -1, -1) if events[i][1] in ("CRON", "sudo", "systemd-logind"))
    events.pop(i)

events.sort(key=lambda e: e[0])
with open(out, "w") as f:
    for t, prog, p, msg in events:
        tm = time.gmtime(t)
        f.write("%s %2d %02d:%02d:%02d %s %s[%d]: %s\n" % (
            MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, HOST, prog, p, msg))

with open(out + ".attackers", "w") as f:
    f.write("\n".join(attackers) + "\n")
with open(out + ".legit", "w") as f:
    f.write("\n".join(legit) + "\n")
print("%s: %d lines, %d attacking and %d legitimate addresses" % (out, len(events), len(attackers), len(legit)),
      file=sys.stderr)
