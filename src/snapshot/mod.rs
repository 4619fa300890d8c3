//! The versioned snapshot file: records per kind, completeness per kind, and
//! capture metadata. Same workspace state, same bytes (metadata times aside).

mod borrowed;
mod canonical;
mod format;
mod io;
mod json_check;

pub use borrowed::{KindRef, RecordAccess, RecordRef, ReferenceRef, SnapshotAccess, SnapshotRef};
pub use format::{
    CaptureMetadata, FORMAT_VERSION, Incomplete, KindSnapshot, Record, Reference, Snapshot, Status,
};
pub(crate) use io::Bytes as FileBytes;
pub use io::{
    ReadError, SnapshotFile, parse_snapshot, read_snapshot, read_snapshot_bytes, write_snapshot,
};
