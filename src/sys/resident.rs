//! Giving back the pages a long-lived process touched once: a container's
//! monitor runs most of its code (and its deepest stack) while it sets the
//! container up, then idles for the container's whole life. What it maps
//! but no longer uses is counted against every running container.

/// Drops from this process what it can fetch again or never needs again:
/// free heap pages (`malloc_trim`), the stack below the caller's frame,
/// and the resident pages of read-only file mappings that hold no
/// private copy (code and constants: clean copies of the page cache,
/// faulted back in on use). Nothing with content is lost: such pages are
/// never written (relocated read-only data holds private copies and is
/// kept), and no live frame is below the caller's. Best effort; errors
/// change nothing.
pub fn shed_idle_pages() {
    let Ok(maps) = super::procfs::read("/proc/self/smaps") else {
        return;
    };
    let marker = 0u8;
    let frame = std::hint::black_box(&marker) as *const u8 as usize;
    let page = page_size();
    // Every range is found before any is dropped, and the text goes last
    // with nothing but the madvise calls after it: each page of code run
    // after the drop is faulted back with its 64 kB neighbourhood (the
    // kernel's fault-around), so the less runs, the less comes back.
    let mut ranges = [(0usize, 0usize); 8];
    let mut count = 0;
    for (map, anonymous) in mappings(&maps) {
        let range = if map.is_stack() {
            // Only on the main thread's stack; two pages below this frame
            // stay: this function's own frame (a few hundred bytes) and the
            // madvise call below it must not lose what they hold.
            let end = (frame & !(page - 1)).saturating_sub(2 * page);
            (map.start <= frame && frame < map.end && map.start < end).then_some((map.start, end))
        } else if map.is_file_read_only() && anonymous == 0 {
            Some((map.start, map.end))
        } else {
            None
        };
        if let Some(range) = range {
            if count < ranges.len() {
                ranges[count] = range;
                count += 1;
            }
        }
    }
    drop(maps);
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    // The stack (found first or last) before the text.
    ranges[..count].sort_unstable_by_key(|&(start, _)| std::cmp::Reverse(start));
    for &(start, end) in &ranges[..count] {
        // SAFETY: unused stack or clean, read-only file pages of our own
        // address space; both read back correctly after MADV_DONTNEED.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
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
        shed_idle_pages();
        assert_eq!(before.iter().sum::<u64>(), 499_500);
        // Relocated data (vtables, formatting tables) is intact.
        let shown: Box<dyn std::fmt::Display> = Box::new(42u8);
        assert_eq!(format!("{shown}:{:?}", [1.5f32]), "42:[1.5]");
    }
}
