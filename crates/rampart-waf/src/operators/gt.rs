use super::atoi;

pub(crate) fn gt(input: &[u8], operand: &[u8]) -> bool {
    atoi(input) > atoi(operand)
}
