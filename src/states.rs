//! A container's states, shared by the handle, the command socket and the
//! monitor.

/// States in LXC's order: the index is the wire value of the command socket.
pub const STATES: [&str; 8] = [
    "STOPPED", "STARTING", "RUNNING", "STOPPING", "ABORTING", "FREEZING", "FROZEN", "THAWED",
];

/// Indices into `STATES` (the command socket's state numbers).
pub mod state {
    pub const STOPPED: usize = 0;
    pub const STARTING: usize = 1;
    pub const RUNNING: usize = 2;
    pub const STOPPING: usize = 3;
    pub const FREEZING: usize = 5;
    pub const FROZEN: usize = 6;
    pub const THAWED: usize = 7;
}
