//! Private anonymous memory mapped for one use and unmapped when dropped:
//! a stack of our own, or a buffer kept out of the heap.

use std::ffi::c_void;

pub struct AnonPages {
    at: *mut c_void,
    size: usize,
}

// SAFETY: the mapping is owned by the value; nothing else refers to it.
unsafe impl Send for AnonPages {}

impl AnonPages {
    /// `size` bytes, readable and writable, zeroed; `stack` marks them as
    /// a stack (MAP_STACK).
    pub fn map(size: usize, stack: bool) -> std::io::Result<AnonPages> {
        let flags =
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | if stack { libc::MAP_STACK } else { 0 };
        // SAFETY: a fresh private anonymous mapping.
        let at = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                -1,
                0,
            )
        };
        if at == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(AnonPages { at, size })
    }

    pub fn base(&self) -> *mut c_void {
        self.at
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// One past the last byte: where a stack starts (it grows down).
    pub fn end(&self) -> *mut c_void {
        // SAFETY: one past the end of our own mapping.
        unsafe { self.at.cast::<u8>().add(self.size).cast() }
    }

    /// Doubles the mapping, keeping its contents (it may move).
    pub fn double(&mut self) -> std::io::Result<()> {
        // SAFETY: our mapping, resized as a whole; no reference into it
        // outlives this borrow.
        let moved =
            unsafe { libc::mremap(self.at, self.size, self.size * 2, libc::MREMAP_MAYMOVE) };
        if moved == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        self.at = moved;
        self.size *= 2;
        Ok(())
    }

    /// Makes the lowest page inaccessible: the guard below a stack.
    pub fn guard_lowest_page(&self) -> std::io::Result<()> {
        // SAFETY: the first page of our own mapping.
        if unsafe { libc::mprotect(self.at, super::page_size(), libc::PROT_NONE) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsMut<[u8]> for AnonPages {
    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: our readable and writable mapping of `size` bytes.
        unsafe { std::slice::from_raw_parts_mut(self.at.cast(), self.size) }
    }
}

impl AsRef<[u8]> for AnonPages {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: as for `as_mut`.
        unsafe { std::slice::from_raw_parts(self.at.cast(), self.size) }
    }
}

impl Drop for AnonPages {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used by anyone.
        unsafe { libc::munmap(self.at, self.size) };
    }
}
