//! A thread on a stack this process maps and unmaps itself. glibc keeps the
//! stack of a finished thread for the next one, with every page it touched
//! still resident: in a monitor, which makes one helper thread per start
//! and then idles for the container's life, that is memory counted against
//! every running container.

use std::ffi::c_void;
use std::panic::AssertUnwindSafe;

use super::anon_pages::AnonPages;

/// What the thread runs and what it returned (or its panic).
struct Slot<T> {
    work: Option<Box<dyn FnOnce() -> T + Send>>,
    outcome: Option<std::thread::Result<T>>,
}

/// A running thread; joined (and its stack unmapped) by `join` or drop.
pub struct OwnStackThread<T> {
    thread: libc::pthread_t,
    slot: Box<Slot<T>>,
    joined: bool,
    /// Unmapped after the join (fields drop after `Drop::drop`).
    stack: AnonPages,
}

// SAFETY: the handle only joins the thread and unmaps its stack; the slot
// is read after the join, when the thread no longer touches it.
unsafe impl<T: Send> Send for OwnStackThread<T> {}

impl<T> std::fmt::Debug for OwnStackThread<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnStackThread")
            .field("stack_size", &self.stack.size())
            .finish()
    }
}

extern "C" fn run<T>(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the slot `spawn` boxed; it outlives the thread (the
    // handle joins before freeing it) and only this thread uses it until
    // then.
    let slot = unsafe { &mut *arg.cast::<Slot<T>>() };
    if let Some(work) = slot.work.take() {
        // No unwinding out of a C thread start routine.
        slot.outcome = Some(std::panic::catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Runs `work` on a new thread named `name` with a stack of `stack_size`
/// bytes (a guard page below it included).
pub fn spawn<T: Send + 'static>(
    name: &std::ffi::CStr,
    stack_size: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<OwnStackThread<T>> {
    let page = super::page_size();
    let stack_size = (stack_size.max(16 * page) + page - 1) & !(page - 1);
    let stack = AnonPages::map(stack_size, true)?;
    stack.guard_lowest_page()?;
    let mut handle = OwnStackThread {
        thread: 0,
        slot: Box::new(Slot {
            work: Some(Box::new(work)),
            outcome: None,
        }),
        joined: true,
        stack,
    };
    // SAFETY: the attributes are initialised before use and destroyed
    // after; the slot is boxed (it does not move) and outlives the thread,
    // as does the stack.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let rc = libc::pthread_attr_init(&mut attr);
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        let mut rc = libc::pthread_attr_setstack(&mut attr, handle.stack.base(), stack_size);
        if rc == 0 {
            let slot: *mut Slot<T> = &mut *handle.slot;
            rc = libc::pthread_create(&mut handle.thread, &attr, run::<T>, slot.cast());
        }
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        handle.joined = false;
        libc::pthread_setname_np(handle.thread, name.as_ptr());
    }
    Ok(handle)
}

impl<T> OwnStackThread<T> {
    /// Waits for the thread; what it returned, or its panic.
    pub fn join(mut self) -> std::thread::Result<T> {
        self.wait();
        self.slot
            .outcome
            .take()
            .unwrap_or_else(|| Err(Box::new("the thread never ran")))
    }

    fn wait(&mut self) {
        if !self.joined {
            // SAFETY: our thread, joined once.
            unsafe { libc::pthread_join(self.thread, std::ptr::null_mut()) };
            self.joined = true;
        }
    }
}

impl<T> Drop for OwnStackThread<T> {
    fn drop(&mut self) {
        // Before the stack goes.
        self.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_what_the_thread_made_and_unmaps_its_stack() {
        let t = spawn(c"lxc-test", 128 * 1024, || {
            let here = 0u8;
            (std::hint::black_box(&here) as *const u8 as usize, 7)
        })
        .unwrap();
        let (start, size) = (t.stack.base() as usize, t.stack.size());
        // Its guard page, as /proc/self/maps shows it.
        let guard = format!("{:x}-{:x} ---p", start, start + crate::sys::page_size());
        let has_guard = || {
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            maps.lines().any(|l| l.starts_with(&guard))
        };
        assert!(has_guard());
        let (frame, seven) = t.join().unwrap();
        assert_eq!(seven, 7);
        assert!(
            start < frame && frame < start + size,
            "ran on its own stack"
        );
        assert!(!has_guard(), "the stack is unmapped after the join");
    }

    #[test]
    fn a_panic_is_the_join_s_error() {
        let t = spawn(c"lxc-test", 64 * 1024, || -> u8 { panic!("on purpose") }).unwrap();
        assert!(t.join().is_err());
    }
}
