//! The session as data: its fields (`session`), the byte buffers that hold them
//! (`bytes`), the cipher suites (`cipher`, over a generated table) and the peer
//! certificate (`peer`). No raw pointers reach C from here.

pub mod bytes;
pub mod cipher;
pub mod peer;
pub mod session;
