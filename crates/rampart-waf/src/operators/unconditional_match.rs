pub(crate) fn unconditional_match() -> bool {
    true
}
