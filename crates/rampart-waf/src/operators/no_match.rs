pub(crate) fn no_match() -> bool {
    false
}
