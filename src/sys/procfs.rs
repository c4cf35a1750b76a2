//! Reading the kernel's text files under /proc. They report a size of 0,
//! so a reader sizing its buffer by the file (as `std::fs::read_to_string`
//! does) starts at 32 bytes and doubles: six or more reads for a file the
//! kernel can hand over in one (and asks for the size first, a statx and
//! an lseek). Here the first read asks for 16 KiB.

use std::io::Read;

/// The first read's size: mountinfo, status and cgroup files fit.
const FIRST_READ: usize = 16 * 1024;

/// The whole text of a /proc file (invalid UTF-8 replaced).
pub fn read(path: impl AsRef<std::path::Path>) -> std::io::Result<String> {
    read_text(std::fs::File::open(path)?, FIRST_READ)
}

/// The whole text of a short kernel file already open (a cgroup's): reads
/// only, not the size first.
pub fn read_opened(file: std::fs::File) -> std::io::Result<String> {
    read_text(file, 512)
}

/// The text of `file`, the first read asking for `first` bytes.
fn read_text(file: std::fs::File, first: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; first];
    let len = read_growing_from(file, &mut bytes, |b| {
        b.resize(b.len() * 2, 0);
        Ok(())
    })?;
    bytes.truncate(len);
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads the file at `path` into `buf`, growing it with `grow` when full;
/// the length read.
fn read_growing<B: AsMut<[u8]>>(
    path: &std::path::Path,
    buf: &mut B,
    grow: impl Fn(&mut B) -> std::io::Result<()>,
) -> std::io::Result<usize> {
    read_growing_from(std::fs::File::open(path)?, buf, grow)
}

/// [`read_growing`] of a file already open.
fn read_growing_from<B: AsMut<[u8]>>(
    mut file: std::fs::File,
    buf: &mut B,
    grow: impl Fn(&mut B) -> std::io::Result<()>,
) -> std::io::Result<usize> {
    let mut len = 0;
    loop {
        if len == buf.as_mut().len() {
            grow(buf)?;
        }
        match file.read(&mut buf.as_mut()[len..]) {
            Ok(0) => return Ok(len),
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A /proc file's text in pages of its own, unmapped when dropped: for a
/// long-lived process, in which a heap buffer of that size would leave a
/// hole that later allocations scatter into.
pub struct MappedText {
    pages: super::anon_pages::AnonPages,
    len: usize,
}

impl MappedText {
    /// The file at `path`, or None if it cannot be read or is not UTF-8.
    pub fn read(path: impl AsRef<std::path::Path>) -> Option<MappedText> {
        let mut pages = super::anon_pages::AnonPages::map(FIRST_READ, false).ok()?;
        let len = read_growing(path.as_ref(), &mut pages, |p| p.double()).ok()?;
        let text = MappedText { pages, len };
        std::str::from_utf8(text.bytes()).is_ok().then_some(text)
    }

    fn bytes(&self) -> &[u8] {
        &self.pages.as_ref()[..self.len]
    }

    pub fn text(&self) -> &str {
        // Checked when read.
        std::str::from_utf8(self.bytes()).unwrap_or_default()
    }
}

/// The highest capability the running kernel knows (`fallback` when it
/// cannot be read); read once, it is fixed while the kernel runs.
pub fn cap_last_cap(fallback: u32) -> u32 {
    static LAST: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    LAST.get_or_init(|| {
        read("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
    })
    .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_whole_files() {
        let maps = read("/proc/self/maps").unwrap();
        assert!(maps.lines().count() > 3, "{maps}");
        assert_eq!(
            read("/proc/self/mountinfo").unwrap(),
            std::fs::read_to_string("/proc/self/mountinfo").unwrap()
        );
        assert!(read("/proc/self/no-such-file").is_err());
        assert!(cap_last_cap(0) >= 36);
    }

    #[test]
    fn reads_into_pages_of_its_own_past_the_first_read() {
        // A file larger than the first read: the mapping grows.
        let path = std::env::temp_dir().join(format!("lxc-test-mapped-{}", std::process::id()));
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        assert!(text.len() > FIRST_READ * 2);
        std::fs::write(&path, &text).unwrap();
        let mapped = MappedText::read(&path).unwrap();
        assert_eq!(mapped.text(), text);
        std::fs::write(&path, b"\xff").unwrap();
        assert!(MappedText::read(&path).is_none());
        std::fs::remove_file(&path).unwrap();
        assert!(MappedText::read(&path).is_none());
        let smaps = MappedText::read("/proc/self/smaps").unwrap();
        assert!(smaps.text().contains("Pss:"));
    }
}
