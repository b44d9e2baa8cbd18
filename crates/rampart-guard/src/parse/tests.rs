use super::*;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ev(line: &str) -> Event<'static> {
    let line: &'static str = Box::leak(line.to_string().into_boxed_str());
    match Parser::new(2026).parse(line.as_bytes()).outcome {
        Outcome::Event(e) => e,
        o => panic!("no event from {line:?}: {o:?}"),
    }
}

fn outcome(line: &str) -> Outcome<'static> {
    let line: &'static str = Box::leak(line.to_string().into_boxed_str());
    Parser::new(2026).parse(line.as_bytes()).outcome
}

fn check(line: &str, service: Service, kind: Kind, addr: &str) -> Event<'static> {
    let e = ev(line);
    assert_eq!((e.service, e.kind, e.addr), (service, kind, ip(addr)), "{line}");
    e
}

#[test]
fn openssh_raw_and_syslog() {
    use Kind::*;
    let e = check(
        "Failed password for bfuser from 127.0.0.1 port 46462 ssh2",
        Service::Ssh,
        Failure,
        "127.0.0.1",
    );
    assert_eq!(
        (e.port, e.user, e.invalid_user, e.secondary),
        (Some(46462), Some(&b"bfuser"[..]), false, false)
    );
    let e = check(
        "Connection closed by authenticating user bfuser 127.0.0.1 port 46462 [preauth]",
        Service::Ssh,
        Probe,
        "127.0.0.1",
    );
    assert!(e.secondary);
    let e = check(
        "Invalid user nosuchuser from 127.0.0.1 port 46476",
        Service::Ssh,
        Failure,
        "127.0.0.1",
    );
    assert!(e.invalid_user);
    let e = check(
        "Failed password for invalid user nosuchuser from 127.0.0.1 port 46476 ssh2",
        Service::Ssh,
        Failure,
        "127.0.0.1",
    );
    assert_eq!((e.user, e.invalid_user), (Some(&b"nosuchuser"[..]), true));
    let e = check(
        "Connection closed by invalid user nosuchuser 127.0.0.1 port 46476 [preauth]",
        Service::Ssh,
        Probe,
        "127.0.0.1",
    );
    assert!(e.invalid_user && e.secondary);
    check(
        "Failed password for bfuser from ::1 port 52161 ssh2",
        Service::Ssh,
        Failure,
        "::1",
    );
    check(
        "Accepted password for bfuser from 127.0.0.1 port 56834 ssh2",
        Service::Ssh,
        Success,
        "127.0.0.1",
    );
    check(
        "Accepted publickey for ops from 2001:db8::7 port 22 ssh2: ED25519 SHA256:abcdefABCDEF0123",
        Service::Ssh,
        Success,
        "2001:db8::7",
    );
    assert_eq!(
        outcome("Received disconnect from 127.0.0.1 port 56834:11: disconnected by user"),
        Outcome::Ignored
    );
    assert_eq!(
        outcome("Disconnected from user bfuser 127.0.0.1 port 56834"),
        Outcome::Ignored
    );
    assert_eq!(
        outcome("kex_exchange_identification: client sent invalid protocol identifier \"GET / HTTP/1.0\""),
        Outcome::Ignored
    );
    check(
        "banner exchange: Connection from 127.0.0.1 port 56838: invalid format",
        Service::Ssh,
        Scanner,
        "127.0.0.1",
    );
    let e = check(
        "Connection closed by 127.0.0.1 port 56848 [preauth]",
        Service::Ssh,
        Scanner,
        "127.0.0.1",
    );
    assert!(e.secondary);
    check(
        "Connection closed by 127.0.0.1 port 56848",
        Service::Ssh,
        Scanner,
        "127.0.0.1",
    );
    let e = check(
        "error: maximum authentication attempts exceeded for invalid user admin from 198.51.100.4 port 4242 ssh2 [preauth]",
        Service::Ssh,
        Failure,
        "198.51.100.4",
    );
    assert!(e.secondary && e.invalid_user);
    check(
        "Disconnecting invalid user X 1.2.3.4 port 5: Too many authentication failures [preauth]",
        Service::Ssh,
        Probe,
        "1.2.3.4",
    );
    let e = check(
        "Mar  1 00:00:01 web01 sshd[10019]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=164.112.166.216  user=root",
        Service::Ssh,
        Failure,
        "164.112.166.216",
    );
    assert_eq!(e.weight, 0, "sshd's own line counts the attempt");
    assert_eq!(
        outcome("Mar  1 00:00:00 web01 sshd[10008]: pam_unix(sshd:auth): check pass; user unknown"),
        Outcome::Ignored
    );
    check(
        "Jul  2 10:00:00 host sshd-session[4242]: Failed password for root from 203.0.113.7 port 50000 ssh2",
        Service::Ssh,
        Failure,
        "203.0.113.7",
    );
    check(
        "2026-11-25T14:57:00.123456+00:00 host sshd-auth[7]: Failed publickey for root from 203.0.113.8 port 1 ssh2: RSA SHA256:xyz",
        Service::Ssh,
        Failure,
        "203.0.113.8",
    );
    check(
        "Unable to negotiate with 192.0.2.9 port 4444: no matching key exchange method found. Their offer: x [preauth]",
        Service::Ssh,
        Scanner,
        "192.0.2.9",
    );
    check(
        "Timeout before authentication for 192.0.2.10 port 1",
        Service::Ssh,
        Scanner,
        "192.0.2.10",
    );
    check(
        "Connection reset by 192.0.2.11 port 2 [preauth]",
        Service::Ssh,
        Scanner,
        "192.0.2.11",
    );
    check(
        "User root from 192.0.2.12 not allowed because not listed in AllowUsers",
        Service::Ssh,
        Failure,
        "192.0.2.12",
    );
    check(
        "Bad protocol version identification 'x from 6.6.6.6 port 1' from 192.0.2.13 port 3",
        Service::Ssh,
        Scanner,
        "192.0.2.13",
    );
    // IPv4-mapped IPv6 becomes IPv4.
    check(
        "Failed password for a from ::ffff:192.0.2.14 port 3 ssh2",
        Service::Ssh,
        Failure,
        "192.0.2.14",
    );
    assert_eq!(
        outcome("Mar  1 00:00:01 web01 CRON[1]: pam_unix(cron:session): session opened"),
        Outcome::Ignored
    );
}

#[test]
fn injected_addresses_never_frame_anyone() {
    let cases = [
        "Failed password for invalid user x from 6.6.6.6 port 22 ssh2 from 1.2.3.4 port 5 ssh2",
        "Failed password for root from 6.6.6.6 port 22 ssh2 from 1.2.3.4 port 5 ssh2",
        "Invalid user from 6.6.6.6 port 22 from 1.2.3.4 port 5",
        "Connection closed by authenticating user a 6.6.6.6 port 1 1.2.3.4 port 5 [preauth]",
        "Connection closed by invalid user 6.6.6.6 port 22 [preauth] 1.2.3.4 port 5 [preauth]",
        "Failed publickey for x from 6.6.6.6 port 1 ssh2: A B from 1.2.3.4 port 5 ssh2: RSA SHA256:k",
        "Mar  1 00:00:01 h vsftpd: [x] FAIL LOGIN: Client \"6.6.6.6\"] FAIL LOGIN: Client \"1.2.3.4\"",
        "Wed Nov 25 14:58:01 2026 [pid 1] [x] FAIL LOGIN: Client \"6.6.6.6\"] FAIL LOGIN: Client \"1.2.3.4\"",
        "2026-11-25 14:57:21 4 [Warning] Access denied for user 'a'@'6.6.6.6'@'1.2.3.4' (using password: YES)",
        "Jun 13 16:30:54 p dovecot: imap-login: Disconnected (auth failed, 2 attempts): user=<a, rip=6.6.6.6, lip=1>, method=PLAIN, rip=1.2.3.4, lip=113.212.99.194, TLS",
        "2013-08-11 03:56:40 auth-worker(default): Info: pam(x,6.6.6.6): pam_authenticate() failed,1.2.3.4): pam_authenticate() failed: Authentication failure",
        "[Sat Jul 20 21:39:11.978080 2013] [auth_basic:error] [pid 1:tid 2] [client 1.2.3.4:51390] AH01617: user [client 6.6.6.6:1]: authentication failure for \"/b\": Password Mismatch",
        "Jun 09 07:30:58 p proftpd[11864] p (h[1.2.3.4]): USER x (h[6.6.6.6]): (Login failed): Incorrect password.",
        "1.2.3.4 - 6.6.6.6 [25/Nov/2026:14:57:53 +0000] \"POST /wp-login.php HTTP/1.1\" 200 179 \"-\" \"x\"",
    ];
    for line in cases {
        match outcome(line) {
            Outcome::Event(e) => assert_eq!(e.addr, ip("1.2.3.4"), "{line}"),
            o => panic!("{line}: {o:?}"),
        }
    }
    // An injected success/failure verb must not turn the real success into a failure
    // of someone else.
    let e = ev("Mar  1 00:00:01 h vsftpd: [x] FAIL LOGIN: Client \"6.6.6.6\"] OK LOGIN: Client \"1.2.3.4\"");
    assert_eq!((e.kind, e.addr), (Kind::Success, ip("1.2.3.4")));
    // Ambiguous anchors are refused rather than guessed.
    for line in [
        "2026/11/25 14:57:53 [error] 3553#3553: *1 user \"a\": password mismatch, client: 6.6.6.6, server: x\": password mismatch, client: 1.2.3.4, server: , request: \"GET / HTTP/1.1\", host: \"h\"",
        "Oct 23 21:15:42 vps vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=x rhost=6.6.6.6 rhost=1.2.3.4",
    ] {
        assert_eq!(outcome(line), Outcome::Malformed(Malformed::Ambiguous), "{line}");
    }
    // PostgreSQL: a database name with a space cannot pose as %h.
    assert_eq!(
        outcome("2026-11-25 14:57:11.817 UTC [24879] a@b 6.6.6.6 x FATAL:  password authentication failed for user \"a\""),
        Outcome::NoAddress
    );
}

#[test]
fn ftp_db_mail_web_formats() {
    use Kind::*;
    check(
        "Wed Nov 25 14:58:01 2026 [pid 5782] [bfuser] FAIL LOGIN: Client \"127.0.0.1\"",
        Service::Ftp,
        Failure,
        "127.0.0.1",
    );
    check(
        "Wed Nov 25 14:58:05 2026 [pid 6993] [bfuser] OK LOGIN: Client \"127.0.0.1\"",
        Service::Ftp,
        Success,
        "127.0.0.1",
    );
    check(
        "Thu Sep  8 00:39:49 2016 [pid 15019] [guest] FAIL LOGIN: Client \"::ffff:192.0.2.1\", \"User is not in the allow user list.\"",
        Service::Ftp,
        Failure,
        "192.0.2.1",
    );
    check(
        "Oct 23 21:15:42 vps vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=test rhost=58.254.172.161",
        Service::Ftp,
        Failure,
        "58.254.172.161",
    );
    check(
        "Jun 09 07:30:58 platypus proftpd[11864] platypus.example (mail.example.net[::ffff:67.227.224.66]): USER username (Login failed): Incorrect password.",
        Service::Ftp,
        Failure,
        "67.227.224.66",
    );
    check(
        "Feb 1 00:00:00 myhost proftpd[12345] myhost.domain.com (123.123.123.123[123.123.123.123]): USER username: no such user found from 123.123.123.123 [123.123.123.123] to 234.234.234.234:21",
        Service::Ftp,
        Failure,
        "123.123.123.123",
    );
    check(
        "May 31 10:53:25 mail proftpd[15302]: xxxxxxxxxx (::ffff:1.2.3.4[::ffff:1.2.3.4]) - Maximum login attempts (3) exceeded",
        Service::Ftp,
        Failure,
        "1.2.3.4",
    );
    check(
        "Jun 13 22:07:23 platypus proftpd[15719] platypus (::ffff:59.167.242.100[::ffff:59.167.242.100]): SECURITY VIOLATION: root login attempted.",
        Service::Ftp,
        Failure,
        "59.167.242.100",
    );
    check(
        "2013-11-16 21:59:30,121 novo proftpd[25891] localhost (andy[1.2.3.4]): USER kjsad: no such user found from andy [1.2.3.5] to ::ffff:192.168.1.14:21",
        Service::Ftp,
        Failure,
        "1.2.3.4",
    );
    check(
        "Jan 31 16:54:07 desktop pure-ftpd: (?@24.79.92.194) [WARNING] Authentication failed for user [Administrator]",
        Service::Ftp,
        Failure,
        "24.79.92.194",
    );
    assert_eq!(
        outcome(
            "2026-11-25 14:57:21 4 [Warning] Access denied for user 'app'@'localhost' (using password: YES)"
        ),
        Outcome::NoAddress
    );
    check(
        "2026-11-25 14:57:33 3 [Warning] Access denied for user 'app'@'127.0.0.1' (using password: YES)",
        Service::Mysql,
        Failure,
        "127.0.0.1",
    );
    check(
        "2026-11-25 14:57:33 4 [Warning] Access denied for user 'ghost'@'127.0.0.1'",
        Service::Mysql,
        Failure,
        "127.0.0.1",
    );
    check(
        "2019-01-03T08:50:04.634875Z 113 [Note] [MY-010926] [Server] Access denied for user 'root'@'192.0.2.1' (using password: NO)",
        Service::Mysql,
        Failure,
        "192.0.2.1",
    );
    check(
        "130324 17:56:14 [Warning] Access denied for user 'root'@'61.160.223.112' (using password: YES)",
        Service::Mysql,
        Failure,
        "61.160.223.112",
    );
    check(
        "Nov 25 14:57:33 db mariadbd[99]: 2026-11-25 14:57:33 3 [Warning] Access denied for user 'app'@'10.1.2.3' (using password: YES)",
        Service::Mysql,
        Failure,
        "10.1.2.3",
    );
    // PostgreSQL: joined by pid, or %h in the prefix, or nothing.
    let mut p = Parser::new(2026);
    assert_eq!(
        p.parse(b"2026-11-25 14:57:09.034 UTC [24438] [unknown]@[unknown] LOG:  connection received: host=127.0.0.7 port=51828").outcome,
        Outcome::Ignored
    );
    match p.parse(b"2026-11-25 14:57:09.051 UTC [24438] nosuch@postgres FATAL:  password authentication failed for user \"nosuch\"").outcome {
        Outcome::Event(e) => assert_eq!((e.service, e.addr), (Service::Postgres, ip("127.0.0.7"))),
        o => panic!("{o:?}"),
    }
    assert_eq!(
        p.parse(b"2026-11-25 14:57:00.094 UTC [23412] postgres@postgres FATAL:  password authentication failed for user \"postgres\"").outcome,
        Outcome::NoAddress
    );
    check(
        "2026-11-25 14:57:11.817 UTC [24879] postgres@postgres 127.0.0.1 FATAL:  password authentication failed for user \"postgres\"",
        Service::Postgres,
        Failure,
        "127.0.0.1",
    );
    check(
        "2026-11-25 14:57:11.817 UTC [24879] x@y FATAL:  no pg_hba.conf entry for host \"192.0.2.77\", user \"x\", database \"y\", no encryption",
        Service::Postgres,
        Failure,
        "192.0.2.77",
    );
    let e = check(
        "Jun 13 16:30:54 platypus dovecot: imap-login: Disconnected (auth failed, 2 attempts): user=<username.bob>, method=PLAIN, rip=49.176.98.87, lip=113.212.99.194, TLS",
        Service::Mail,
        Failure,
        "49.176.98.87",
    );
    assert_eq!(e.weight, 2);
    check(
        "Jul 02 13:49:31 hostname dovecot[442]: pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>",
        Service::Mail,
        Failure,
        "192.51.100.13",
    );
    check(
        "Jun 12 19:07:29 hostname dovecot[241]: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): user=<test>, method=PLAIN, rip=192.0.2.241, lip=203.0.113.104, TLS, session=<9ZHq02g3J8S60fan>",
        Service::Mail,
        Failure,
        "192.0.2.241",
    );
    let e = check(
        "2013-08-11 03:56:40 auth-worker(default): Info: pam(username,1.2.3.4): pam_authenticate() failed: Authentication failure (password mismatch?)",
        Service::Mail,
        Failure,
        "1.2.3.4",
    );
    assert_eq!(e.weight, 0);
    check(
        "Mar 10 13:33:30 gandalf postfix/smtpd[3937]: warning: HOSTNAME[1.1.1.1]: SASL LOGIN authentication failed: authentication failure",
        Service::Mail,
        Failure,
        "1.1.1.1",
    );
    check(
        "Dec  2 22:24:22 hel postfix/submission/smtpd[7676]: warning: unknown[114.44.142.233]: SASL CRAM-MD5 authentication failed: PDc3OTEw",
        Service::Mail,
        Failure,
        "114.44.142.233",
    );
    check(
        "2026/11/25 14:57:53 [error] 3553#3553: *1 user \"admin\": password mismatch, client: 127.0.0.1, server: , request: \"GET / HTTP/1.1\", host: \"127.0.0.1:18081\"",
        Service::HttpAuth,
        Failure,
        "127.0.0.1",
    );
    check(
        "2026/11/25 14:57:53 [error] 3553#3553: *2 user \"nobody\" was not found in \"/etc/nginx/htpasswd\", client: ::1, server: , request: \"GET / HTTP/1.1\", host: \"[::1]:18081\"",
        Service::HttpAuth,
        Failure,
        "::1",
    );
    assert_eq!(
        outcome(
            "127.0.0.1 - admin [25/Nov/2026:14:57:53 +0000] \"GET / HTTP/1.1\" 401 179 \"-\" \"curl/7.88.1\""
        ),
        Outcome::Ignored
    );
    check(
        "[Sat Jul 20 21:39:11.978080 2013] [auth_basic:error] [pid 17512:tid 140123053950720] [client 127.0.0.1:51390] AH01617: user username: authentication failure for \"/basic/file\": Password Mismatch",
        Service::HttpAuth,
        Failure,
        "127.0.0.1",
    );
    check(
        "[Sat Jul 20 21:37:32.266605 2013] [auth_basic:error] [pid 17512:tid 140123079128832] [client 127.0.0.1:51386] AH01618: user  not found: /basic/file/cant_get_me.html",
        Service::HttpAuth,
        Failure,
        "127.0.0.1",
    );
    check(
        "[Thu Jul 11 01:21:44 2013] [error] [client 2001:db8::80da:af6b:8b2c] user test-ipv6 not found: /",
        Service::HttpAuth,
        Failure,
        "2001:db8::80da:af6b:8b2c",
    );
    check(
        "[Sat Jul 20 21:39:11.978080 2013] [auth_basic:error] [pid 1:tid 2] [client 2001:db8::1:8080] AH01617: user u: authentication failure for \"/\": Password Mismatch",
        Service::HttpAuth,
        Failure,
        "2001:db8::1",
    );
    check(
        "203.0.113.50 - - [25/Nov/2026:14:57:53 +0000] \"POST /blog/wp-login.php HTTP/1.1\" 200 4523 \"-\" \"Mozilla\"",
        Service::Wordpress,
        Failure,
        "203.0.113.50",
    );
    check(
        "2001:db8::50 - - [25/Nov/2026:14:57:53 +0000] \"POST /xmlrpc.php HTTP/1.1\" 200 4523 \"-\" \"Mozilla\"",
        Service::Wordpress,
        Failure,
        "2001:db8::50",
    );
    check(
        "203.0.113.50 - - [25/Nov/2026:14:57:53 +0000] \"POST /wp-login.php HTTP/1.1\" 302 0 \"-\" \"Mozilla\"",
        Service::Wordpress,
        Success,
        "203.0.113.50",
    );
}

#[test]
fn every_sample_line_of_the_shared_formats_file_is_understood() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/logs/formats.txt");
    let Ok(text) = std::fs::read(path) else {
        eprintln!("skipping: {path} not present");
        return;
    };
    let mut p = Parser::new(2026);
    let mut unrecognised = Vec::new();
    for line in text.split(|&c| c == b'\n') {
        let line = trim_end(line);
        if line.is_empty() || line.starts_with(b"#") || line.starts_with(b"\t") {
            continue;
        }
        // Strip the collector's annotations ("   <- …", "   (…)").
        let s = String::from_utf8_lossy(line);
        let s = s.split("   ").next().unwrap_or("").trim_end().to_string();
        let o = p.parse(s.as_bytes()).outcome;
        if matches!(o, Outcome::Malformed(_)) {
            unrecognised.push((s.clone(), format!("{o:?}")));
        }
    }
    // xrdp and MS SQL are services Rampart does not guard.
    unrecognised.retain(|(s, _)| !s.contains("AUTHFAIL") && !s.starts_with("2020-02-24 16:05:21.00 Logon"));
    assert!(unrecognised.is_empty(), "{unrecognised:#?}");
}

#[test]
fn malformed_input_is_counted_never_a_crash() {
    let mut p = Parser::new(2026);
    let huge = vec![b'A'; 1 << 20];
    assert_eq!(p.parse(&huge).outcome, Outcome::Malformed(Malformed::TooLong));
    let mut long_ssh = b"Failed password for ".to_vec();
    long_ssh.extend(std::iter::repeat_n(b'x', 1 << 20));
    long_ssh.extend_from_slice(b" from 1.2.3.4 port 5 ssh2");
    assert_eq!(p.parse(&long_ssh).outcome, Outcome::Malformed(Malformed::TooLong));
    assert_eq!(
        p.parse(b"Failed password for root\0 from 1.2.3.4 port 5 ssh2")
            .outcome,
        Outcome::Malformed(Malformed::Nul)
    );
    for bad in [
        &b"Failed password for root from 999.1.1.1 port 22 ssh2"[..],
        b"Failed password for root from 1.2.3 port 22 ssh2",
        b"Failed password for root from 1.2.3.4 port 99999 ssh2",
        b"Failed password for root from 1.2.3.4 port",
        b"Failed password for root from \xff\xfe port 22 ssh2",
        b"Failed password for root from ::ffff:999.1.1.1 port 22 ssh2",
        b"Invalid user x from 1.2.3.4.5 port 1",
        b"Connection closed by 300.2.3.4 port 2 [preauth]",
    ] {
        assert!(
            matches!(p.parse(bad).outcome, Outcome::Malformed(_)),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // Invalid UTF-8 in the user name does not hide a real failure.
    match p
        .parse(b"Failed password for \xff\xfe from 1.2.3.4 port 22 ssh2")
        .outcome
    {
        Outcome::Event(e) => assert_eq!(e.addr, ip("1.2.3.4")),
        o => panic!("{o:?}"),
    }
    // Every prefix of a real line is safe and never yields a wrong address.
    let line =
        b"Nov 25 14:57:00 h sshd[1]: Failed password for invalid user admin from 203.0.113.77 port 4242 ssh2";
    for n in 0..line.len() {
        if let Outcome::Event(e) = p.parse(&line[..n]).outcome {
            // Truncation inside the address can leave a shorter valid one (203.0.113.7):
            // the port and " ssh2" must still have been cut off, so that never happens.
            assert_eq!(e.addr, ip("203.0.113.77"), "prefix {n}");
        }
    }
    // Random bytes.
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for _ in 0..20000 {
        let mut buf = Vec::new();
        for _ in 0..(x % 200) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let alphabet = b"Failed password for invalid user from port ssh2 1.2.3.4 ::ffff: [preauth]\"'@";
            buf.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        let _ = p.parse(&buf);
    }
}
