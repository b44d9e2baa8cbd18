use super::atoi;

pub(crate) fn lt(input: &[u8], operand: &[u8]) -> bool {
    atoi(input) < atoi(operand)
}
