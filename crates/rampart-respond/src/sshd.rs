//! sshd: its configuration, validation with `sshd -t`, and reload.
