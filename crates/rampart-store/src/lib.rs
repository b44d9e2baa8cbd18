//! Rampart's persistent state (SQLite).
