//! The playbook's password policy: at least 8 characters with upper case, lower case,
//! digits and special characters, and a zxcvbn score of at least 3 (a policy-shaped
//! password like `Password1!` passes the character rules but not zxcvbn).

use serde::Serialize;

pub const MIN_LENGTH: usize = 8;
pub const MIN_ZXCVBN_SCORE: u8 = 3;
pub const DEFAULT_GENERATED_LENGTH: usize = 20;

/// How a password fares against the policy. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rating {
    pub length: usize,
    pub has_upper: bool,
    pub has_lower: bool,
    pub has_digit: bool,
    pub has_special: bool,
    /// zxcvbn score, 0 (guessable in seconds) to 4.
    pub score: u8,
    /// Everything that fails the policy, in words.
    pub problems: Vec<String>,
}

impl Rating {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Rates `password`; `user_inputs` (user name, host name) count as guessable words.
pub fn rate(password: &str, user_inputs: &[&str]) -> Rating {
    let length = password.chars().count();
    let has_upper = password.chars().any(|c| c.is_uppercase());
    let has_lower = password.chars().any(|c| c.is_lowercase());
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    let has_special = password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control());
    let mut problems = Vec::new();
    if length < MIN_LENGTH {
        problems.push(format!("shorter than {MIN_LENGTH} characters ({length})"));
    }
    if !has_upper {
        problems.push("no upper-case letter".into());
    }
    if !has_lower {
        problems.push("no lower-case letter".into());
    }
    if !has_digit {
        problems.push("no digit".into());
    }
    if !has_special {
        problems.push("no special character".into());
    }
    let score = if password.is_empty() {
        0
    } else {
        let estimate = zxcvbn::zxcvbn(password, user_inputs);
        let score = u8::from(estimate.score());
        if score < MIN_ZXCVBN_SCORE {
            let mut why = format!("too easy to guess (zxcvbn score {score} of 4, needs {MIN_ZXCVBN_SCORE})");
            if let Some(fb) = estimate.feedback() {
                if let Some(w) = fb.warning() {
                    why.push_str(&format!(": {w}"));
                }
            }
            problems.push(why);
        }
        score
    };
    if password.is_empty() {
        problems.push("empty".into());
    }
    Rating {
        length,
        has_upper,
        has_lower,
        has_digit,
        has_special,
        score,
        problems,
    }
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGIT: &[u8] = b"23456789";
// No quotes, backslash or `$`: generated passwords get pasted into shells and configs.
const SPECIAL: &[u8] = b"!#%*+,-./:=?@^_~";

#[derive(Debug)]
pub struct GenerateError(pub String);

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for GenerateError {}

/// A random password of `length` characters from the operating system's CSPRNG that
/// passes [`rate`].
pub fn generate(length: usize) -> Result<String, GenerateError> {
    if length < MIN_LENGTH.max(12) {
        return Err(GenerateError(format!(
            "generated passwords must be at least 12 characters (asked for {length})"
        )));
    }
    let all: Vec<u8> = [UPPER, LOWER, DIGIT, SPECIAL].concat();
    for _ in 0..100 {
        let mut pw: Vec<u8> = Vec::with_capacity(length);
        for class in [UPPER, LOWER, DIGIT, SPECIAL] {
            pw.push(class[uniform(class.len())?]);
        }
        while pw.len() < length {
            pw.push(all[uniform(all.len())?]);
        }
        // Shuffle so the class-guaranteed characters are not always first.
        for i in (1..pw.len()).rev() {
            pw.swap(i, uniform(i + 1)?);
        }
        let s = String::from_utf8(pw).expect("ASCII alphabet");
        if rate(&s, &[]).ok() {
            return Ok(s);
        }
    }
    Err(GenerateError(
        "could not generate a password that passes the policy".into(),
    ))
}

/// A uniform index below `n` (rejection sampling, no modulo bias).
fn uniform(n: usize) -> Result<usize, GenerateError> {
    let n = n as u32;
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| GenerateError(format!("no randomness from the kernel: {e}")))?;
        let v = u32::from_ne_bytes(b);
        if v < zone {
            return Ok((v % n) as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_shaped_but_guessable_fails() {
        let r = rate("Password1!", &[]);
        assert!(r.has_upper && r.has_lower && r.has_digit && r.has_special);
        assert!(!r.ok(), "{r:?}");
        assert!(r.problems.iter().any(|p| p.contains("zxcvbn")));
    }

    #[test]
    fn short_and_missing_classes_are_named() {
        let r = rate("abc", &[]);
        assert!(r.problems.iter().any(|p| p.contains("shorter than 8")));
        assert!(r.problems.iter().any(|p| p.contains("upper-case")));
        assert!(r.problems.iter().any(|p| p.contains("digit")));
        assert!(r.problems.iter().any(|p| p.contains("special")));
    }

    #[test]
    fn strong_password_passes() {
        assert!(rate("k7#Vq!m2Rz@wL9xe", &[]).ok());
    }

    #[test]
    fn user_name_counts_as_guessable() {
        let r = rate("Alice2024!", &["alice"]);
        assert!(!r.ok());
    }

    #[test]
    fn generated_passwords_pass_and_differ() {
        let a = generate(DEFAULT_GENERATED_LENGTH).unwrap();
        let b = generate(DEFAULT_GENERATED_LENGTH).unwrap();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(rate(&a, &[]).ok());
        assert!(generate(6).is_err());
    }
}
