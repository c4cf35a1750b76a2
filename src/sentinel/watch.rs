//! The sentinel process: replays the journal as it arrives and, when the
//! monitor goes without saying `Clean`, waits for init and undoes it.

use std::os::fd::{AsRawFd, OwnedFd};

use super::undo;
use crate::journal::{wire, Item, Msg};
use crate::log::LogOptions;
use crate::sys;

/// What the journal says is on the host now.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// In creation order (a cgroup parent precedes its children).
    pub items: Vec<Item>,
    pub init: Option<OwnedFd>,
    pub netns: Option<OwnedFd>,
    /// Where to log (file, level), as the monitor said.
    pub log: Option<(String, i32)>,
}

impl Journal {
    fn apply(&mut self, msg: Msg, fd: Option<OwnedFd>) {
        match msg {
            Msg::Add(item) => {
                if !self.items.contains(&item) {
                    self.items.push(item);
                }
            }
            Msg::Drop(item) => self.items.retain(|i| *i != item),
            Msg::Init => self.init = fd,
            Msg::Netns => self.netns = fd,
            Msg::NoNetns => self.netns = None,
            Msg::Log { file, level } => self.log = Some((file, level)),
            Msg::Clean => {}
        }
    }
}

/// The sentinel's life, from its end of the journal; returns its exit
/// status.
pub(super) fn run(sock: OwnedFd, name: &str, lxcpath: &str) -> i32 {
    let mut journal = Journal::default();
    let mut buf = [0u8; 8192];
    let mut trouble = Vec::new();
    loop {
        match crate::sys::socket::recv_msg(&sock, &mut buf) {
            // EOF: every copy of the monitor's end is closed.
            Ok(r) if r.len == 0 && r.fds.is_empty() => break,
            Ok(mut r) => match wire::decode(&buf[..r.len]) {
                Some(Msg::Clean) => return 0,
                Some(Msg::Init) => {
                    journal.apply(Msg::Init, r.fds.pop());
                    // Init runs: from here the sentinel mostly waits.
                    sys::resident::shed_idle_pages();
                }
                Some(msg) => journal.apply(msg, r.fds.pop()),
                None => trouble.push("Ignored an unreadable journal message".to_string()),
            },
            Err(e) => {
                // Nothing is undone before init is gone, whatever this is.
                trouble.push(format!("Journal: {}", e.message));
                break;
            }
        }
    }
    drop(sock);
    // Only now: a sentinel that is dismissed never touches the logging
    // code (its pages would count in its resident size).
    let (file, level) = journal.log.take().unwrap_or(("none".into(), -1));
    let _ = crate::log::init(&LogOptions {
        name: Some(name.to_string()),
        lxcpath: Some(lxcpath.to_string()),
        file: Some(file),
        level: crate::log::Priority::from_level(level),
        prefix: Some("lxc-sentinel".into()),
        quiet: true,
    });
    for t in trouble {
        log::error!("{t}");
    }
    log::warn!("The monitor of \"{name}\" ended without cleaning up: the sentinel does it");
    if let Some(init) = &journal.init {
        wait_gone(init);
    }
    undo::undo(journal);
    0
}

/// Blocks until the process behind `pidfd` has exited.
fn wait_gone(pidfd: &OwnedFd) {
    let mut pfd = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling a descriptor we own, without a timeout: the
    // container's end is what we wait for.
    while unsafe { libc::poll(&mut pfd, 1, -1) } < 0 && sys::errno() == libc::EINTR {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_follows_adds_and_drops() {
        let mut j = Journal::default();
        let cg = Item::Cgroup("/sys/fs/cgroup/x/lxc.payload.a".into());
        let link = Item::HostLink("vethX".into());
        j.apply(Msg::Add(cg.clone()), None);
        j.apply(Msg::Add(link.clone()), None);
        j.apply(Msg::Add(cg.clone()), None);
        assert_eq!(j.items, vec![cg.clone(), link.clone()]);
        j.apply(Msg::Drop(cg.clone()), None);
        assert_eq!(j.items, vec![link]);
        let (a, _b) = sys::socketpair_seqpacket().unwrap();
        j.apply(Msg::Netns, Some(a));
        assert!(j.netns.is_some());
        j.apply(Msg::NoNetns, None);
        assert!(j.netns.is_none());
    }
}
