use super::is_space;

pub(crate) fn trim(input: &[u8]) -> Option<Vec<u8>> {
    let s = trim_start(input);
    let s = trim_end(s);
    (s.len() != input.len()).then(|| s.to_vec())
}

pub(crate) fn trim_left(input: &[u8]) -> Option<Vec<u8>> {
    let s = trim_start(input);
    (s.len() != input.len()).then(|| s.to_vec())
}

pub(crate) fn trim_right(input: &[u8]) -> Option<Vec<u8>> {
    let s = trim_end(input);
    (s.len() != input.len()).then(|| s.to_vec())
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| is_space(c)).count();
    &s[n..]
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&c| is_space(c)).count();
    &s[..s.len() - n]
}

#[cfg(test)]
mod tests {
    #[test]
    fn trims() {
        assert_eq!(super::super::t(super::trim, " \ta b\n"), "a b");
        assert_eq!(super::super::t(super::trim_left, " a "), "a ");
        assert_eq!(super::super::t(super::trim_right, " a "), " a");
    }
}
