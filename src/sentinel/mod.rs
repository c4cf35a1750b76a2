//! The sentinel: what undoes a container's host-side traces when its
//! monitor dies without cleaning up (SIGKILL, OOM kill, a crash).
//!
//! One sentinel serves every container of a user: it listens on a socket
//! in a directory only that user may enter (`<rundir>/lxc/sentinel/`), and
//! each monitor, first thing after detaching from the caller, while it is
//! still single-threaded and has created nothing, connects to it, or, when
//! none greets it, starts it: a fork of the monitor forked again (no exec:
//! it shares the pages of a monitor that has read no configuration yet),
//! nobody's child here, with the new monitor's connection as its only
//! descriptor besides /dev/null. It lives in that monitor's cgroups (the
//! caller's), never in a container's, so it can remove those; it holds no
//! command socket, pty or console, and is no one's parent: init's parent
//! is still its monitor, as tools expect.
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
//! waits for the answer; the sentinel forgets that journal and, when it
//! was its last, stops listening, answers so and exits, and the monitor
//! sees it gone before it answers `stop`. If a connection reaches EOF
//! without `Clean`, that monitor is gone: the sentinel waits for its init
//! to end (polling its pidfd with everything else: with
//! `lxc.monitor.signal.pdeath` init is being killed already), undoes that
//! journal, and logs what it did to that container's log.

mod launch;
mod place;
mod undo;
mod watch;

pub use launch::{dismiss, journal_readable, launch, reap, release, root_holder, settle};
