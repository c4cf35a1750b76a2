//! Strings and arrays across the C boundary. Everything handed to C comes
//! from libc's malloc, because C callers release it with free().

use std::ffi::CStr;
use std::ptr;

use libc::{c_char, c_int};
use lxc_core::{Error, Result};

/// A C string argument that may be NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
pub unsafe fn opt_str<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p)
        .to_str()
        .map(Some)
        .map_err(|_| Error::invalid(format!("{what}: not valid UTF-8")))
}

/// A C string argument that must not be NULL.
///
/// # Safety
/// As for [`opt_str`].
pub unsafe fn req_str<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    opt_str(p, what)?.ok_or_else(|| Error::invalid(format!("{what}: NULL")))
}

/// A malloc'd copy of `s` (NULL when out of memory). Interior NULs end
/// the C string early, as they would in C.
pub fn malloc_strdup(s: &str) -> *mut c_char {
    let bytes = s.as_bytes();
    // SAFETY: malloc with a non-zero size; the copy stays in bounds.
    unsafe {
        let p = libc::malloc(bytes.len() + 1) as *mut c_char;
        if !p.is_null() {
            ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, p, bytes.len());
            *p.add(bytes.len()) = 0;
        }
        p
    }
}

/// A malloc'd copy of `bytes` plus a NUL, as LXC hands out buffers; NULL
/// for no bytes (or out of memory).
pub fn malloc_bytes(bytes: &[u8]) -> *mut c_char {
    if bytes.is_empty() {
        return ptr::null_mut();
    }
    // SAFETY: malloc with a non-zero size; the copy stays in bounds.
    unsafe {
        let p = libc::malloc(bytes.len() + 1) as *mut u8;
        if !p.is_null() {
            ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            *p.add(bytes.len()) = 0;
        }
        p as *mut c_char
    }
}

/// A malloc'd, NULL-terminated array of malloc'd strings (NULL when out of
/// memory, with nothing leaked).
pub fn malloc_str_array<S: AsRef<str>>(items: &[S]) -> *mut *mut c_char {
    // SAFETY: calloc of items+1 pointers; every write is in bounds.
    unsafe {
        let arr =
            libc::calloc(items.len() + 1, std::mem::size_of::<*mut c_char>()) as *mut *mut c_char;
        if arr.is_null() {
            return arr;
        }
        for (i, s) in items.iter().enumerate() {
            let p = malloc_strdup(s.as_ref());
            if p.is_null() {
                free_str_array(arr);
                return ptr::null_mut();
            }
            *arr.add(i) = p;
        }
        arr
    }
}

/// Frees an array made by [`malloc_str_array`].
///
/// # Safety
/// `arr` is NULL or a NULL-terminated malloc'd array of malloc'd strings.
pub unsafe fn free_str_array(arr: *mut *mut c_char) {
    if arr.is_null() {
        return;
    }
    let mut i = 0;
    while !(*arr.add(i)).is_null() {
        libc::free(*arr.add(i) as *mut libc::c_void);
        i += 1;
    }
    libc::free(arr as *mut libc::c_void);
}

/// LXC's buffer convention for getters: copy as much of `s` as fits in
/// `retv[0..inlen]` (always NUL-terminated, zero-filled beyond), and return
/// the full length so a caller passing `retv == NULL`/`inlen == 0` learns
/// how much to allocate.
///
/// # Safety
/// `retv` is NULL or valid for `inlen` bytes.
pub unsafe fn copy_out(s: &str, retv: *mut c_char, inlen: c_int) -> c_int {
    let len = c_int::try_from(s.len()).unwrap_or(c_int::MAX);
    if retv.is_null() || inlen <= 0 {
        return len;
    }
    let cap = inlen as usize;
    ptr::write_bytes(retv, 0, cap);
    let n = s.len().min(cap - 1);
    ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, retv, n);
    len
}

/// LXC's `lxc_get_conf_str`: `s` and its NUL are copied only when they fit
/// in `retv[0..inlen]`; otherwise (and for an empty `s`) the buffer is left
/// as it was. Returns the length of `s`.
///
/// # Safety
/// `retv` is NULL or valid for `inlen` bytes.
pub unsafe fn copy_out_whole(s: &str, retv: *mut c_char, inlen: c_int) -> c_int {
    let len = c_int::try_from(s.len()).unwrap_or(c_int::MAX);
    if !retv.is_null() && !s.is_empty() && (inlen as i64) > s.len() as i64 {
        ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, retv, s.len());
        *retv.add(s.len()) = 0;
    }
    len
}

/// Sets the calling thread's errno.
pub fn set_errno(errno: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() = errno };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_out_convention() {
        let mut buf = [0x55 as c_char; 4];
        unsafe {
            assert_eq!(copy_out("hello", ptr::null_mut(), 0), 5);
            assert_eq!(copy_out("hello", buf.as_mut_ptr(), 4), 5);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "hel");
            assert_eq!(copy_out("", buf.as_mut_ptr(), 4), 0);
            assert_eq!(buf, [0; 4]);
        }
    }

    #[test]
    fn copy_out_whole_convention() {
        let mut buf = [0x55 as c_char; 6];
        unsafe {
            assert_eq!(copy_out_whole("hello", buf.as_mut_ptr(), 5), 5);
            assert_eq!(buf, [0x55; 6]);
            assert_eq!(copy_out_whole("", buf.as_mut_ptr(), 6), 0);
            assert_eq!(buf, [0x55; 6]);
            assert_eq!(copy_out_whole("hello", buf.as_mut_ptr(), 6), 5);
            assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), "hello");
        }
    }

    #[test]
    fn arrays() {
        let arr = malloc_str_array(&["a", "bc"]);
        unsafe {
            assert_eq!(CStr::from_ptr(*arr.add(1)).to_str().unwrap(), "bc");
            assert!((*arr.add(2)).is_null());
            free_str_array(arr);
            assert_eq!(opt_str(ptr::null(), "x").unwrap(), None);
            assert!(req_str(ptr::null(), "key").is_err());
        }
    }
}
