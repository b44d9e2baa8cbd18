//! The HTTP/1.x front end: request head parsing, body decoding, response writing.

pub mod head;
pub mod response;
pub mod wire;
