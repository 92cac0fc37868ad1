//! Recognising what C hands us. A session of ours is a slot in our own arena (`arena`),
//! so any pointer can be classified (live, freed, or not ours) before anything is read
//! through it; freed slots wait in a quarantine (`quarantine`) before reuse; misuse is
//! reported by `misuse`.

pub mod arena;
pub mod misuse;
pub mod quarantine;
