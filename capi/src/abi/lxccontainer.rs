//! Types and constants of `<lxc/lxccontainer.h>`. Parsed by cbindgen.
//!
//! Member order is the ABI: it must equal LXC 6.0's `struct lxc_container` on
//! x86_64 (584 bytes, `rcv_timeout` at 568, `set_timeout` at 576).
//! tests-c/abi_layout.c compares every offset with Debian's LXC headers.

use super::attach_options::{lxc_attach_exec_t, lxc_attach_options_t};
use libc::{c_char, c_int, c_uint, c_ulong, c_void, pid_t};

/// clone(): keep the container's hostname.
pub const LXC_CLONE_KEEPNAME: c_int = 1 << 0;
/// clone(): keep the MAC addresses.
pub const LXC_CLONE_KEEPMACADDR: c_int = 1 << 1;
/// clone(): make a snapshot clone.
pub const LXC_CLONE_SNAPSHOT: c_int = 1 << 2;
/// clone(): keep the backing store type.
pub const LXC_CLONE_KEEPBDEVTYPE: c_int = 1 << 3;
/// clone(): snapshot when the backing store allows it, copy otherwise.
pub const LXC_CLONE_MAYBE_SNAPSHOT: c_int = 1 << 4;
/// clone(): one past the highest flag.
pub const LXC_CLONE_MAXFLAGS: c_int = 1 << 5;
/// clone(): allow cloning a running container.
pub const LXC_CLONE_ALLOW_RUNNING: c_int = 1 << 6;
/// create(): do not show the template's output.
pub const LXC_CREATE_QUIET: c_int = 1 << 0;
/// create(): one past the highest flag.
pub const LXC_CREATE_MAXFLAGS: c_int = 1 << 1;
/// mount(): version of `struct lxc_mount`.
pub const LXC_MOUNT_API_V1: c_int = 1;
/// migrate(): track memory changes.
pub const FEATURE_MEM_TRACK: u64 = 1 << 0;
/// migrate(): lazy page migration.
pub const FEATURE_LAZY_PAGES: u64 = 1 << 1;

/// Private lock type; never dereferenced by clients.
#[repr(C)]
pub struct lxc_lock {
    _opaque: [u8; 0],
}

/// Private configuration type; non-NULL once a configuration is loaded.
#[repr(C)]
pub struct lxc_conf {
    _opaque: [u8; 0],
}

/// Version of the mount injection API the caller speaks.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lxc_mount {
    /// `LXC_MOUNT_API_V1`.
    pub version: c_int,
}

/// A container handle. Get one with `lxc_container_new()`, release it with
/// `lxc_container_put()`.
#[repr(C)]
pub struct lxc_container {
    /// The container's name.
    pub name: *mut c_char,
    /// Path of its configuration file (malloc'd; may be replaced with a strdup'd string).
    pub configfile: *mut c_char,
    /// Path of a pidfile to write at start, or NULL.
    pub pidfile: *mut c_char,
    /// Private: the on-disk lock.
    pub slock: *mut lxc_lock,
    /// Private: the in-process lock.
    pub privlock: *mut lxc_lock,
    /// Number of references held (see lxc_container_get/put).
    pub numthreads: c_int,
    /// Private: the loaded configuration, NULL when none.
    pub lxc_conf: *mut lxc_conf,
    /// Human-readable description of the last error, or NULL.
    pub error_string: *mut c_char,
    /// Last error number; the exit status after a foreground start.
    pub error_num: c_int,
    /// Whether start() runs the container in the background.
    pub daemonize: bool,
    /// The lxcpath: the directory holding this container's directory.
    pub config_path: *mut c_char,
    /// Whether the container's configuration file exists.
    pub is_defined: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Current state name ("STOPPED", "RUNNING", ...); static storage.
    pub state: Option<unsafe extern "C" fn(c: *mut lxc_container) -> *const c_char>,
    /// Whether the container is running (any state but STOPPED).
    pub is_running: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Freeze all processes of a running container.
    pub freeze: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Thaw a frozen container.
    pub unfreeze: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// PID of the container's init as seen from the caller, or -1.
    pub init_pid: Option<unsafe extern "C" fn(c: *mut lxc_container) -> pid_t>,
    /// Load the configuration from alt_file, or from the container's config when NULL.
    pub load_config:
        Option<unsafe extern "C" fn(c: *mut lxc_container, alt_file: *const c_char) -> bool>,
    /// Start the container; argv overrides lxc.init.cmd; useinit runs an init for an application.
    pub start: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            useinit: c_int,
            argv: *const *mut c_char,
        ) -> bool,
    >,
    /// Start with a NULL-terminated list of arguments.
    pub startl: Option<unsafe extern "C" fn(c: *mut lxc_container, useinit: c_int, ...) -> bool>,
    /// Kill the container's init and wait for it to stop.
    pub stop: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Whether start() runs the container in the background (the default).
    pub want_daemonize: Option<unsafe extern "C" fn(c: *mut lxc_container, state: bool) -> bool>,
    /// Whether start() closes every inherited file descriptor.
    pub want_close_all_fds:
        Option<unsafe extern "C" fn(c: *mut lxc_container, state: bool) -> bool>,
    /// Path of the configuration file; malloc'd, the caller frees it.
    pub config_file_name: Option<unsafe extern "C" fn(c: *mut lxc_container) -> *mut c_char>,
    /// Wait up to timeout seconds (-1 forever) for the named state.
    pub wait: Option<
        unsafe extern "C" fn(c: *mut lxc_container, state: *const c_char, timeout: c_int) -> bool,
    >,
    /// Set one configuration key in memory.
    pub set_config_item: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            key: *const c_char,
            value: *const c_char,
        ) -> bool,
    >,
    /// Delete a stopped container: its rootfs and its directory.
    pub destroy: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Write the configuration to alt_file, or to the container's config when NULL.
    pub save_config:
        Option<unsafe extern "C" fn(c: *mut lxc_container, alt_file: *const c_char) -> bool>,
    /// Create the container with template t on backing store bdevtype.
    pub create: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            t: *const c_char,
            bdevtype: *const c_char,
            specs: *mut bdev_specs,
            flags: c_int,
            argv: *const *mut c_char,
        ) -> bool,
    >,
    /// Create with template arguments as a NULL-terminated list.
    pub createl: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            t: *const c_char,
            bdevtype: *const c_char,
            specs: *mut bdev_specs,
            flags: c_int,
            ...
        ) -> bool,
    >,
    /// Rename a stopped container.
    pub rename: Option<unsafe extern "C" fn(c: *mut lxc_container, newname: *const c_char) -> bool>,
    /// Ask the container to reboot (lxc.signal.reboot).
    pub reboot: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Ask the container to halt (lxc.signal.halt) and wait up to timeout seconds.
    pub shutdown: Option<unsafe extern "C" fn(c: *mut lxc_container, timeout: c_int) -> bool>,
    /// Drop the whole in-memory configuration.
    pub clear_config: Option<unsafe extern "C" fn(c: *mut lxc_container)>,
    /// Reset one key (or a list key) to its default.
    pub clear_config_item:
        Option<unsafe extern "C" fn(c: *mut lxc_container, key: *const c_char) -> bool>,
    /// Copy a key's value into retv; returns the length needed, or -1.
    pub get_config_item: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            key: *const c_char,
            retv: *mut c_char,
            inlen: c_int,
        ) -> c_int,
    >,
    /// A key's value as the running container uses it; malloc'd.
    pub get_running_config_item:
        Option<unsafe extern "C" fn(c: *mut lxc_container, key: *const c_char) -> *mut c_char>,
    /// Newline-separated keys under a prefix into retv; returns the length needed.
    pub get_keys: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            key: *const c_char,
            retv: *mut c_char,
            inlen: c_int,
        ) -> c_int,
    >,
    /// Interface names inside the container; malloc'd NULL-terminated array.
    pub get_interfaces: Option<unsafe extern "C" fn(c: *mut lxc_container) -> *mut *mut c_char>,
    /// Addresses inside the container; malloc'd NULL-terminated array.
    pub get_ips: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            interface: *const c_char,
            family: *const c_char,
            scope: c_int,
        ) -> *mut *mut c_char,
    >,
    /// Read a cgroup file of the running container into retv.
    pub get_cgroup_item: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            subsys: *const c_char,
            retv: *mut c_char,
            inlen: c_int,
        ) -> c_int,
    >,
    /// Write a cgroup file of the running container.
    pub set_cgroup_item: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            subsys: *const c_char,
            value: *const c_char,
        ) -> bool,
    >,
    /// The lxcpath this handle uses.
    pub get_config_path: Option<unsafe extern "C" fn(c: *mut lxc_container) -> *const c_char>,
    /// Change the lxcpath this handle uses.
    pub set_config_path:
        Option<unsafe extern "C" fn(c: *mut lxc_container, path: *const c_char) -> bool>,
    /// Copy the container to newname; returns a new handle or NULL.
    pub clone: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            newname: *const c_char,
            lxcpath: *const c_char,
            flags: c_int,
            bdevtype: *const c_char,
            bdevdata: *const c_char,
            newsize: u64,
            hookargs: *mut *mut c_char,
        ) -> *mut lxc_container,
    >,
    /// Allocate a tty of the container; returns its fd and sets *ptxfd.
    pub console_getfd: Option<
        unsafe extern "C" fn(c: *mut lxc_container, ttynum: *mut c_int, ptxfd: *mut c_int) -> c_int,
    >,
    /// Attach the given fds to a tty of the container until the escape sequence.
    pub console: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            ttynum: c_int,
            stdinfd: c_int,
            stdoutfd: c_int,
            stderrfd: c_int,
            escape: c_int,
        ) -> c_int,
    >,
    /// Run exec_function(exec_payload) in a new process inside the container.
    pub attach: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            exec_function: lxc_attach_exec_t,
            exec_payload: *mut c_void,
            options: *mut lxc_attach_options_t,
            attached_process: *mut pid_t,
        ) -> c_int,
    >,
    /// Run program inside the container and return its wait status.
    pub attach_run_wait: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            options: *mut lxc_attach_options_t,
            program: *const c_char,
            argv: *const *const c_char,
        ) -> c_int,
    >,
    /// attach_run_wait with a NULL-terminated list of arguments.
    pub attach_run_waitl: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            options: *mut lxc_attach_options_t,
            program: *const c_char,
            arg: *const c_char,
            ...
        ) -> c_int,
    >,
    /// Snapshot the container; returns the snapshot number or -1.
    pub snapshot:
        Option<unsafe extern "C" fn(c: *mut lxc_container, commentfile: *const c_char) -> c_int>,
    /// Array of the container's snapshots; returns their count or -1.
    pub snapshot_list: Option<
        unsafe extern "C" fn(c: *mut lxc_container, snapshots: *mut *mut lxc_snapshot) -> c_int,
    >,
    /// Restore snapname over the container, or to newname.
    pub snapshot_restore: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            snapname: *const c_char,
            newname: *const c_char,
        ) -> bool,
    >,
    /// Delete one snapshot.
    pub snapshot_destroy:
        Option<unsafe extern "C" fn(c: *mut lxc_container, snapname: *const c_char) -> bool>,
    /// Whether the caller may control this container.
    pub may_control: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Make a host device node available in the running container.
    pub add_device_node: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            src_path: *const c_char,
            dest_path: *const c_char,
        ) -> bool,
    >,
    /// Remove a device node from the running container.
    pub remove_device_node: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            src_path: *const c_char,
            dest_path: *const c_char,
        ) -> bool,
    >,
    /// Move a host network interface into the running container.
    pub attach_interface: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            dev: *const c_char,
            dst_dev: *const c_char,
        ) -> bool,
    >,
    /// Move an interface of the running container back to the host.
    pub detach_interface: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            dev: *const c_char,
            dst_dev: *const c_char,
        ) -> bool,
    >,
    /// Checkpoint the container with CRIU.
    pub checkpoint: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            directory: *mut c_char,
            stop: bool,
            verbose: bool,
        ) -> bool,
    >,
    /// Restore a checkpointed container with CRIU.
    pub restore: Option<
        unsafe extern "C" fn(c: *mut lxc_container, directory: *mut c_char, verbose: bool) -> bool,
    >,
    /// Delete the container and all of its snapshots.
    pub destroy_with_snapshots: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Delete all snapshots of the container.
    pub snapshot_destroy_all: Option<unsafe extern "C" fn(c: *mut lxc_container) -> bool>,
    /// Checkpoint/restore operations; size is sizeof(struct migrate_opts).
    pub migrate: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            cmd: c_uint,
            opts: *mut migrate_opts,
            size: c_uint,
        ) -> c_int,
    >,
    /// Read and/or clear the console ring buffer.
    pub console_log:
        Option<unsafe extern "C" fn(c: *mut lxc_container, log: *mut lxc_console_log) -> c_int>,
    /// Reboot and wait up to timeout seconds for the container to come back.
    pub reboot2: Option<unsafe extern "C" fn(c: *mut lxc_container, timeout: c_int) -> bool>,
    /// Mount source onto target inside the running container.
    pub mount: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            source: *const c_char,
            target: *const c_char,
            filesystemtype: *const c_char,
            mountflags: c_ulong,
            data: *const c_void,
            mnt: *mut lxc_mount,
        ) -> c_int,
    >,
    /// Unmount target inside the running container.
    pub umount: Option<
        unsafe extern "C" fn(
            c: *mut lxc_container,
            target: *const c_char,
            mountflags: c_ulong,
            mnt: *mut lxc_mount,
        ) -> c_int,
    >,
    /// The seccomp notify fd of a container this process started.
    pub seccomp_notify_fd: Option<unsafe extern "C" fn(c: *mut lxc_container) -> c_int>,
    /// The seccomp notify fd of a running container, from its monitor.
    pub seccomp_notify_fd_active: Option<unsafe extern "C" fn(c: *mut lxc_container) -> c_int>,
    /// A pidfd for the container's init.
    pub init_pidfd: Option<unsafe extern "C" fn(c: *mut lxc_container) -> c_int>,
    /// A mount fd for the container's devpts instance.
    pub devpts_fd: Option<unsafe extern "C" fn(c: *mut lxc_container) -> c_int>,
    /// Timeout in seconds for replies from the container's monitor (0: none).
    pub rcv_timeout: c_int,
    /// Set rcv_timeout.
    pub set_timeout: Option<unsafe extern "C" fn(c: *mut lxc_container, timeout: c_int) -> bool>,
}

/// A snapshot of a container, as returned by `snapshot_list()`.
#[repr(C)]
pub struct lxc_snapshot {
    /// Snapshot name ("snap0", ...).
    pub name: *mut c_char,
    /// Path of the comment file, or NULL.
    pub comment_pathname: *mut c_char,
    /// Creation time, "YYYY:MM:DD HH:MM:SS".
    pub timestamp: *mut c_char,
    /// The lxcpath holding the snapshot.
    pub lxcpath: *mut c_char,
    /// Frees the members (not the struct itself).
    pub free: Option<unsafe extern "C" fn(s: *mut lxc_snapshot)>,
}

/// ZFS backing store options.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bdev_specs_zfs {
    /// Parent dataset.
    pub zfsroot: *mut c_char,
}

/// LVM backing store options.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bdev_specs_lvm {
    /// Volume group.
    pub vg: *mut c_char,
    /// Logical volume name.
    pub lv: *mut c_char,
    /// Thin pool, or NULL.
    pub thinpool: *mut c_char,
}

/// RBD backing store options.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bdev_specs_rbd {
    /// Image name.
    pub rbdname: *mut c_char,
    /// Pool name.
    pub rbdpool: *mut c_char,
}

/// How create() makes a new backing store.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bdev_specs {
    /// Filesystem type for block backends.
    pub fstype: *mut c_char,
    /// Size in bytes for block backends.
    pub fssize: u64,
    /// ZFS options.
    pub zfs: bdev_specs_zfs,
    /// LVM options.
    pub lvm: bdev_specs_lvm,
    /// Directory of a `dir` backing store.
    pub dir: *mut c_char,
    /// RBD options.
    pub rbd: bdev_specs_rbd,
}

/// Options of migrate(). New members are only ever appended.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct migrate_opts {
    /// Directory for the images.
    pub directory: *mut c_char,
    /// Verbose CRIU output.
    pub verbose: bool,
    /// Stop the container after dumping.
    pub stop: bool,
    /// Pre-dump directory, relative to directory.
    pub predump_dir: *mut c_char,
    /// Page server address.
    pub pageserver_address: *mut c_char,
    /// Page server port.
    pub pageserver_port: *mut c_char,
    /// Whether the rootfs keeps its inode numbers across checkpoint and restore.
    pub preserves_inodes: bool,
    /// CRIU action script.
    pub action_script: *mut c_char,
    /// Do not skip in-flight TCP connections.
    pub disable_skip_in_flight: bool,
    /// Largest deleted file CRIU handles (0: its default).
    pub ghost_limit: u64,
    /// `FEATURE_*` bits to check.
    pub features_to_check: u64,
}

/// Argument of console_log().
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lxc_console_log {
    /// Clear the ring buffer.
    pub clear: bool,
    /// Read the ring buffer.
    pub read: bool,
    /// In: most bytes to read (0: all); out: bytes read.
    pub read_max: *mut u64,
    /// Out: the data read (malloc'd).
    pub data: *mut c_char,
}

/// Arguments of lxc_log_init().
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lxc_log {
    /// Container name, shown in every line and used to name the default log file.
    pub name: *const c_char,
    /// lxcpath used to place the default log file.
    pub lxcpath: *const c_char,
    /// Log file, "none" for no file.
    pub file: *const c_char,
    /// Lowest priority written ("TRACE" ... "FATAL").
    pub level: *const c_char,
    /// Prefix of every line (default "lxc").
    pub prefix: *const c_char,
    /// Do not copy errors to stderr.
    pub quiet: bool,
}
