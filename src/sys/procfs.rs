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
    let mut file = std::fs::File::open(path)?;
    let mut bytes = vec![0u8; FIRST_READ];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            bytes.resize(len * 2, 0);
        }
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(len);
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
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
}
