//! Giving back the pages a long-lived process touched once: a container's
//! monitor runs most of its code (and its deepest stack) while it sets the
//! container up, then idles for the container's whole life. What it maps
//! but no longer uses is counted against every running container.

/// Drops from this process what it can fetch again or never needs again:
/// free heap pages (`malloc_trim`), the stack below the caller's frame,
/// and the resident pages of executable file mappings (clean copies of the
/// page cache, faulted back in on use). Nothing with content is lost: the
/// text is read-only and never relocated, and no live frame is below the
/// caller's. Best effort; errors change nothing.
pub fn shed_idle_pages() {
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let marker = 0u8;
    let frame = std::hint::black_box(&marker) as *const u8 as usize;
    let page = page_size();
    for line in maps.lines() {
        let Some(map) = Mapping::parse(line) else {
            continue;
        };
        let range = if map.is_stack() {
            // Only on the main thread's stack; two pages below this frame
            // stay: this function's own frame (a few hundred bytes) and the
            // madvise call below it must not lose what they hold.
            let end = (frame & !(page - 1)).saturating_sub(2 * page);
            (map.start <= frame && frame < map.end && map.start < end).then_some((map.start, end))
        } else if map.is_file_text() {
            Some((map.start, map.end))
        } else {
            None
        };
        if let Some((start, end)) = range {
            // SAFETY: unused stack or clean, read-only file pages of our own
            // address space; both read back correctly after MADV_DONTNEED.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
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

    /// Private, read-only, executable and backed by a file: code, which no
    /// one writes (the vDSO has no inode and is left alone).
    fn is_file_text(&self) -> bool {
        self.perms == "r-xp" && self.inode != 0
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
        assert!(text.is_file_text());
        assert!(!text.is_stack());
        let stack =
            Mapping::parse("7fffe9068000-7fffe9089000 rw-p 00000000 00:00 0      [stack]").unwrap();
        assert!(stack.is_stack());
        assert!(!stack.is_file_text());
        let vdso =
            Mapping::parse("7ffd5b1f0000-7ffd5b1f2000 r-xp 00000000 00:00 0      [vdso]").unwrap();
        assert!(!vdso.is_file_text());
        // Relocated read-only data holds content the file lacks: kept.
        let relro =
            Mapping::parse("7fb026f77000-7fb026f8a000 r--p 00375000 fe:00 10010646 /a").unwrap();
        assert!(!relro.is_file_text());
        assert_eq!(Mapping::parse("garbage"), None);
    }

    #[test]
    fn shedding_keeps_this_process_working() {
        let before: Vec<u64> = (0..1000).collect();
        shed_idle_pages();
        assert_eq!(before.iter().sum::<u64>(), 499_500);
    }
}
