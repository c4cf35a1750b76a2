//! The sentinel: what undoes a container's host-side traces when its
//! monitor dies without cleaning up (SIGKILL, OOM kill, a crash).
//!
//! The monitor launches it first thing after detaching from the caller,
//! while it is still single-threaded and has created nothing: a fork of
//! the monitor (no exec: it shares the monitor's pages) with one end of a
//! SOCK_SEQPACKET pair as its only descriptor besides /dev/null. It lives in
//! the monitor's own cgroups (the caller's: our monitor never moves into an
//! `lxc.monitor.<name>` cgroup), never in the container's, so it can remove
//! those; it holds no command socket, pty or console. It is the monitor's
//! child, not a subreaper nor anyone's parent: init's parent is still the
//! monitor, as tools expect.
//!
//! As the monitor creates something on the host it journals it here
//! (`note`), and it journals what it removed again (`forget`): container
//! cgroups and the `lxc.cgroup.dir` parents it made, `l2proxy` neighbour
//! entries (with their link's ifindex) and loopback routes, host devices
//! not yet moved into the container, physical devices moved in (with their
//! host name and MTU). It also hands over init's pidfd and, when physical
//! devices went in, the container's network namespace: the kernel gives a
//! virtual device back to nobody (it is deleted with the namespace) and a
//! real one back under its container-side name, so putting them back as
//! they were needs the namespace alive after init.
//!
//! At its normal end (after its own cleanup) the monitor says `Clean` and
//! reaps the sentinel before it answers `stop`. If the socket reaches EOF
//! without that, the monitor is gone: the sentinel waits for init to end
//! (one blocking poll on its pidfd: with `lxc.monitor.signal.pdeath` init
//! is being killed already), undoes the journal, logs what it did to the
//! container's log, and exits.

mod launch;
mod undo;
mod watch;

pub use launch::{dismiss, launch, reap, release};
