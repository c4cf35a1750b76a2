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

/// Whether freezing (or thawing) a container in `state` changes it, as
/// LXC's clients decide: freezing a frozen container and thawing one that
/// is neither frozen nor freezing are successes with nothing to do.
pub fn freeze_changes(state: usize, freeze: bool) -> bool {
    if freeze {
        state != state::FROZEN
    } else {
        state == state::FROZEN || state == state::FREEZING
    }
}

#[cfg(test)]
mod tests {
    use super::state::*;
    use super::*;

    #[test]
    fn what_a_freeze_or_thaw_changes() {
        assert!(freeze_changes(RUNNING, true) && freeze_changes(FREEZING, true));
        assert!(!freeze_changes(FROZEN, true));
        assert!(freeze_changes(FROZEN, false) && freeze_changes(FREEZING, false));
        assert!(!freeze_changes(RUNNING, false) && !freeze_changes(STOPPED, false));
    }
}
