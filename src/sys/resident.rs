//! Giving back the pages a long-lived process touched once: a container's
//! monitor runs most of its code (and its deepest stack) while it sets the
//! container up, then idles for the container's whole life. What it maps
//! but no longer uses is counted against every running container.
//!
//! Code dropped from the page tables comes back on its next use with its
//! 64 kB neighbourhood (the kernel's fault-around), so the drop is made by
//! the wait the process idles in: between the last `madvise` and the
//! blocking call only [`shed_idle_pages_then`] runs, with its own code
//! kept mapped and both system calls made inline, and an idle process has
//! almost none of its code mapped (a few faults would bring back half a
//! megabyte, counted against that container alone while it is the only
//! one).

use std::os::fd::RawFd;

/// How long a long-lived process stays quiet before it gives back what
/// its last work touched (a burst of commands is served without
/// refaulting in between).
pub const QUIET_MS: i32 = 200;

/// The blocking call a process idles in, without a timeout.
pub enum IdleWait<'a> {
    /// `ppoll` on these descriptors.
    Poll(&'a mut [libc::pollfd]),
    /// `epoll_pwait` on this epoll descriptor into these events.
    Epoll(RawFd, &'a mut [libc::epoll_event]),
}

/// The fault-around window of the kernel's default (`fault_around_bytes`).
const FAULT_AROUND: usize = 64 * 1024;

/// Drops from this process what it can fetch again or never needs again,
/// then waits in `wait`; the wait's result (what it counted, or its errno).
/// Dropped: free heap pages (`malloc_trim`), the stack below this frame,
/// and the resident pages of read-only file mappings that hold no private
/// copy (code and constants: clean copies of the page cache, faulted back
/// in on use). Nothing with content is lost: such pages are never written
/// (relocated read-only data holds private copies and is kept), and no
/// live frame is below this one. The shedding is best effort.
#[inline(never)]
pub fn shed_idle_pages_then(wait: IdleWait<'_>) -> std::result::Result<usize, i32> {
    // The lowest byte of this frame: nothing below it is live.
    let frame = stack_pointer();
    let page = super::page_size();
    // This function's own code stays: two fault-around windows from the one
    // it starts in.
    let own = shed_idle_pages_then as *const () as usize & !(FAULT_AROUND - 1);
    let own = (own, own + 2 * FAULT_AROUND);
    let mut ranges = [(0usize, 0usize); 8];
    let mut count = 0;
    if let Some(maps) = super::procfs::MappedText::read("/proc/self/smaps") {
        for (map, anonymous) in mappings(maps.text()) {
            let kept = if map.is_stack() {
                // Only on the main thread's stack, below the page this
                // frame ends in: nothing deeper runs after the drop (the
                // system calls are inline and push nothing).
                let end = frame & !(page - 1);
                if !(map.start <= frame && frame < map.end && map.start < end) {
                    continue;
                }
                [(map.start, end), (0, 0)]
            } else if map.is_file_read_only() && anonymous == 0 {
                [
                    (map.start, own.0.clamp(map.start, map.end)),
                    (own.1.clamp(map.start, map.end), map.end),
                ]
            } else {
                continue;
            };
            for (start, end) in kept {
                if start < end && count < ranges.len() {
                    ranges[count] = (start, end);
                    count += 1;
                }
            }
        }
    }
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    let call = match wait {
        IdleWait::Poll(fds) => [
            libc::SYS_ppoll as usize,
            fds.as_mut_ptr() as usize,
            fds.len(),
            0, // no timeout
            0, // no signal mask
            std::mem::size_of::<libc::sigset_t>(),
        ],
        IdleWait::Epoll(epfd, events) => [
            libc::SYS_epoll_pwait as usize,
            epfd as usize,
            events.as_mut_ptr() as usize,
            events.len().min(i32::MAX as usize),
            -1i32 as usize, // no timeout
            0,              // no signal mask
        ],
    };
    // From here nothing but this function runs until the wait returns.
    for &(start, end) in &ranges[..count] {
        // SAFETY: unused stack or clean, read-only file pages of our own
        // address space; both read back correctly after MADV_DONTNEED.
        unsafe {
            super::raw::inline_syscall(
                libc::SYS_madvise as usize,
                [start, end - start, libc::MADV_DONTNEED as usize, 0, 0],
            )
        };
    }
    // SAFETY: the wait's arguments point into `wait`'s buffers, alive and
    // exclusively ours for the call.
    let ret = unsafe {
        super::raw::inline_syscall(call[0], [call[1], call[2], call[3], call[4], call[5]])
    };
    if ret < 0 {
        Err(-ret as i32)
    } else {
        Ok(ret as usize)
    }
}

/// The stack pointer of the caller (inlined: its frame's lowest byte).
#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads a register.
    unsafe {
        std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reads a register.
    unsafe {
        std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        // A local's address less a page: the frame's lowest byte is no
        // further below it than that.
        let marker = 0u8;
        sp = (std::hint::black_box(&marker) as *const u8 as usize).saturating_sub(4096);
    }
    sp
}

/// The mappings of a /proc/<pid>/smaps text, each with its `Anonymous`
/// size (kB; u64::MAX when the text lacks it, which sheds nothing).
fn mappings(smaps: &str) -> Vec<(Mapping<'_>, u64)> {
    let mut out: Vec<(Mapping, u64)> = Vec::new();
    for line in smaps.lines() {
        if let Some(value) = line.strip_prefix("Anonymous:") {
            if let Some(last) = out.last_mut() {
                let kb = value.trim().trim_end_matches("kB").trim();
                last.1 = kb.parse().unwrap_or(u64::MAX);
            }
        } else if let Some(map) = Mapping::parse(line) {
            out.push((map, u64::MAX));
        }
    }
    out
}

/// One line of /proc/self/maps, as far as shedding needs it.
#[derive(Debug, PartialEq)]
struct Mapping<'a> {
    start: usize,
    end: usize,
    perms: &'a str,
    inode: u64,
    path: &'a str,
}

impl<'a> Mapping<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        let mut fields = line.split_ascii_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let perms = fields.next()?;
        let _offset = fields.next()?;
        let _device = fields.next()?;
        let inode = fields.next()?.parse().ok()?;
        let path = fields.next().unwrap_or("");
        Some(Mapping {
            start: usize::from_str_radix(start, 16).ok()?,
            end: usize::from_str_radix(end, 16).ok()?,
            perms,
            inode,
            path,
        })
    }

    fn is_stack(&self) -> bool {
        self.path == "[stack]"
    }

    /// Private, read-only (executable or not) and backed by a file: code
    /// and constants (the vDSO and vvar have no inode and are left alone).
    fn is_file_read_only(&self) -> bool {
        matches!(self.perms, "r-xp" | "r--p") && self.inode != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_maps_lines() {
        let text = Mapping::parse(
            "7fb026cd8000-7fb026f77000 r-xp 000d7000 fe:00 10010646                   /",
        )
        .unwrap();
        assert_eq!(text.start, 0x7fb026cd8000);
        assert_eq!(text.end, 0x7fb026f77000);
        assert!(text.is_file_read_only());
        assert!(!text.is_stack());
        let stack =
            Mapping::parse("7fffe9068000-7fffe9089000 rw-p 00000000 00:00 0      [stack]").unwrap();
        assert!(stack.is_stack());
        assert!(!stack.is_file_read_only());
        let vdso =
            Mapping::parse("7ffd5b1f0000-7ffd5b1f2000 r-xp 00000000 00:00 0      [vdso]").unwrap();
        assert!(!vdso.is_file_read_only());
        let data =
            Mapping::parse("7fb026f8a000-7fb026f8e000 rw-p 00388000 fe:00 10010646 /a").unwrap();
        assert!(!data.is_file_read_only());
        assert_eq!(Mapping::parse("garbage"), None);
    }

    #[test]
    fn smaps_gives_each_mapping_its_private_copies() {
        let smaps = "7fb026f77000-7fb026f8a000 r--p 00375000 fe:00 10010646 /a
Size:                 76 kB
Anonymous:            76 kB
VmFlags: rd mr mw me ac
7fb026c00000-7fb026cd8000 r--p 00000000 fe:00 10010646 /a
Size:                864 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
7fb026cd8000-7fb026f77000 r-xp 000d7000 fe:00 10010646 /a
Size:               2684 kB
";
        let maps = mappings(smaps);
        assert_eq!(maps.len(), 3);
        // Relocated read-only data holds content the file lacks: kept.
        assert_eq!(maps[0].1, 76);
        assert_eq!(maps[1].1, 0);
        // Without the field nothing says it is clean: kept too.
        assert_eq!(maps[2].1, u64::MAX);
    }

    #[test]
    fn shedding_keeps_this_process_working() {
        let before: Vec<u64> = (0..1000).collect();
        let (r, w) = crate::sys::pipe("a test pipe").unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            std::io::Write::write_all(&mut std::fs::File::from(w), b"x").unwrap();
        });
        let mut fds = [libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&r),
            events: libc::POLLIN,
            revents: 0,
        }];
        assert_eq!(shed_idle_pages_then(IdleWait::Poll(&mut fds)), Ok(1));
        assert_ne!(fds[0].revents & libc::POLLIN, 0);
        writer.join().unwrap();
        assert_eq!(before.iter().sum::<u64>(), 499_500);
        // Relocated data (vtables, formatting tables) is intact.
        let shown: Box<dyn std::fmt::Display> = Box::new(42u8);
        assert_eq!(format!("{shown}:{:?}", [1.5f32]), "42:[1.5]");
    }
}
