//! One allocation per `lxc_container_new`: the C-visible `struct
//! lxc_container` first, the Rust core after it. A `*mut lxc_container`
//! given back by C is therefore also a pointer to its `Handle`.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, addr_of_mut};
use std::sync::Mutex;

use libc::{c_char, c_int};
use lxc_core::refcount::RefCount;
use lxc_core::{Container, Error, Result};

use crate::abi::lxccontainer::{lxc_conf, lxc_container};
use crate::cstr::{malloc_strdup, set_errno};

/// Room for `error_string`. It lives inside the handle and is overwritten
/// in place, so a thread reading `c->error_string` while another fails can
/// see a mixed message but never freed memory.
const ERROR_CAP: usize = 1024;

#[repr(C)]
pub struct Handle {
    c: UnsafeCell<lxc_container>,
    pub core: Container,
    refs: RefCount,
    error: Mutex<()>,
    error_buf: UnsafeCell<[c_char; ERROR_CAP]>,
}

// SAFETY: the C struct is shared with C exactly as LXC shares it; our own
// writes to it happen under `error` (error fields) or on fields that only
// change through this library's entries, and the core is Sync.
unsafe impl Sync for Handle {}
unsafe impl Send for Handle {}

impl Handle {
    /// Allocates a handle for `core` with a fully populated table.
    pub fn new_raw(core: Container) -> *mut lxc_container {
        let name = malloc_strdup(&core.name());
        let configfile = malloc_strdup(&core.config_file().to_string_lossy());
        let config_path = malloc_strdup(&core.lxcpath());
        let mut c = crate::vtable::table();
        c.name = name;
        c.configfile = configfile;
        c.config_path = config_path;
        c.numthreads = 1;
        c.daemonize = true;
        let handle = Box::new(Handle {
            c: UnsafeCell::new(c),
            core,
            refs: RefCount::new(),
            error: Mutex::new(()),
            error_buf: UnsafeCell::new([0; ERROR_CAP]),
        });
        let raw = Box::into_raw(handle);
        // SAFETY: raw is a fresh, valid Handle.
        unsafe { (*raw).sync_conf() };
        raw as *mut lxc_container
    }

    /// # Safety
    /// `c` is NULL or was returned by `new_raw` and not yet freed.
    pub unsafe fn from_ptr<'a>(c: *mut lxc_container) -> Option<&'a Handle> {
        (c as *const Handle).as_ref()
    }

    pub fn raw(&self) -> *mut lxc_container {
        self.c.get()
    }

    pub fn get_ref(&self) -> bool {
        let ok = self.refs.get();
        self.mirror_refcount();
        ok
    }

    /// Drops a reference; frees the handle when it was the last one.
    ///
    /// # Safety
    /// `c` came from `new_raw`; after a `true` return it is dangling.
    pub unsafe fn put_ref(c: *mut lxc_container) -> bool {
        let Some(h) = Self::from_ptr(c) else {
            return false;
        };
        let last = h.refs.put();
        h.mirror_refcount();
        if last {
            let raw = h.raw();
            for field in [
                addr_of_mut!((*raw).name),
                addr_of_mut!((*raw).configfile),
                addr_of_mut!((*raw).config_path),
                addr_of_mut!((*raw).pidfile),
            ] {
                libc::free(field.read() as *mut libc::c_void);
                field.write(ptr::null_mut());
            }
            drop(Box::from_raw(c as *mut Handle));
        }
        last
    }

    fn mirror_refcount(&self) {
        // SAFETY: numthreads is an int of our struct; C only reads it.
        unsafe { addr_of_mut!((*self.raw()).numthreads).write(self.refs.count()) };
    }

    /// Points `lxc_conf` at the core when a configuration is loaded, NULL
    /// otherwise: tools test it to mean "config loaded".
    pub fn sync_conf(&self) {
        let conf = if self.core.has_config() {
            &self.core as *const Container as *mut lxc_conf
        } else {
            ptr::null_mut()
        };
        // SAFETY: a pointer-sized field of our struct.
        unsafe { addr_of_mut!((*self.raw()).lxc_conf).write(conf) };
    }

    /// Replaces a malloc'd string field of the struct (the old one is freed).
    pub fn replace_string(&self, field: fn(*mut lxc_container) -> *mut *mut c_char, value: &str) {
        let p = malloc_strdup(value);
        // SAFETY: the field holds NULL or a malloc'd string we own.
        unsafe {
            let slot = field(self.raw());
            let old = slot.read();
            slot.write(p);
            libc::free(old as *mut libc::c_void);
        }
    }

    /// The configuration file C points at: clients may assign their own
    /// strdup'd path to `c->configfile`, which the core then follows.
    /// False when they cleared it (LXC then has no configuration file).
    pub fn follow_configfile(&self) -> bool {
        // SAFETY: configfile is NULL or a NUL-terminated string.
        let current = unsafe { crate::cstr::opt_str((*self.raw()).configfile, "configfile") };
        if let Ok(Some(path)) = current {
            if std::path::Path::new(path) != self.core.config_file() {
                self.core.set_config_file(std::path::Path::new(path));
            }
        }
        // SAFETY: reading a pointer field of our struct.
        unsafe { !(*self.raw()).configfile.is_null() }
    }

    pub fn set_daemonize(&self, on: bool) {
        // SAFETY: a bool field of our struct.
        unsafe { addr_of_mut!((*self.raw()).daemonize).write(on) };
    }

    pub fn set_rcv_timeout(&self, seconds: c_int) {
        // SAFETY: an int field of our struct.
        unsafe { addr_of_mut!((*self.raw()).rcv_timeout).write(seconds) };
    }

    /// Records a failure in `error_num`/`error_string` and the log.
    pub fn set_error(&self, op: &str, err: &Error) {
        if err.message.starts_with(op) {
            log::error!(target: "lxccontainer", "{}", err.message);
        } else {
            log::error!(target: "lxccontainer", "{op}: {}", err.message);
        }
        let _guard = self.error.lock().unwrap_or_else(|p| p.into_inner());
        let msg = err.message.as_bytes();
        let n = msg.len().min(ERROR_CAP - 1);
        // SAFETY: the buffer is ours, written under the lock, in bounds.
        unsafe {
            let buf = self.error_buf.get() as *mut c_char;
            ptr::copy_nonoverlapping(msg.as_ptr() as *const c_char, buf, n);
            *buf.add(n) = 0;
            addr_of_mut!((*self.raw()).error_string).write(buf);
            addr_of_mut!((*self.raw()).error_num).write(err.errno);
        }
        set_errno(err.errno);
    }
}

/// Runs one table entry: resolves `c`, catches panics, and turns an `Err`
/// into `fail` plus `error_string`/`error_num`.
///
/// # Safety
/// `c` is NULL or a live handle.
pub unsafe fn entry<T>(
    c: *mut lxc_container,
    op: &str,
    fail: T,
    body: impl FnOnce(&Handle) -> Result<T>,
) -> T {
    let Some(h) = Handle::from_ptr(c) else {
        log::error!(target: "lxccontainer", "{op}: NULL container");
        set_errno(libc::EINVAL);
        return fail;
    };
    match catch_unwind(AssertUnwindSafe(|| body(h))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            h.set_error(op, &e);
            fail
        }
        Err(_) => {
            h.set_error(
                op,
                &Error::new(libc::EFAULT, format!("{op}: internal error (panic caught)")),
            );
            fail
        }
    }
}

/// As `entry` for entries that return `-errno` on failure, as LXC's
/// `get_config_item` and `get_keys` do (-1 for a NULL container).
pub unsafe fn entry_errno(
    c: *mut lxc_container,
    op: &str,
    body: impl FnOnce(&Handle) -> Result<c_int>,
) -> c_int {
    let mut errno = 1;
    let ret = entry(c, op, -1, |h| {
        body(h).inspect_err(|e| errno = e.errno.max(1))
    });
    if ret == -1 && !c.is_null() {
        -errno
    } else {
        ret
    }
}

/// Runs a global entry (no container): catches panics, logs errors and
/// sets errno.
pub fn global<T>(op: &str, fail: T, body: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            log::error!(target: "lxccontainer", "{op}: {}", e.message);
            set_errno(e.errno);
            fail
        }
        Err(_) => {
            log::error!(target: "lxccontainer", "{op}: internal error (panic caught)");
            set_errno(libc::EFAULT);
            fail
        }
    }
}
