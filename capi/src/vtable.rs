//! The function table of `struct lxc_container`: one thunk per entry.

use std::ffi::CStr;
use std::path::Path;
use std::ptr::{self, addr_of_mut};

use libc::{c_char, c_int, c_uint, c_ulong, c_void, pid_t};
use std::os::fd::IntoRawFd;

use lxc_core::attach::{AttachOptions, EnvPolicy, Payload};
use lxc_core::container::{BdevSpecs, CloneOptions, CreateOptions, StartOptions, STATES};
use lxc_core::{Error, Result};

use crate::abi::attach_options::{
    lxc_attach_env_policy_t, lxc_attach_exec_t, lxc_attach_options_t,
};
use crate::abi::lxccontainer::{
    bdev_specs, lxc_console_log, lxc_container, lxc_mount, lxc_snapshot, migrate_opts,
    LXC_CREATE_MAXFLAGS, LXC_CREATE_QUIET,
};
use crate::cstr::{
    copy_out, copy_out_whole, malloc_bytes, malloc_str_array, malloc_strdup, opt_str, req_str,
};
use crate::handle::{entry, entry_errno};

extern "C" {
    // capi/shim/variadic.c: collect the variadic arguments, then call the
    // array variants through this same table.
    fn lxcrs_startl(c: *mut lxc_container, useinit: c_int, ...) -> bool;
    fn lxcrs_createl(
        c: *mut lxc_container,
        t: *const c_char,
        bdevtype: *const c_char,
        specs: *mut bdev_specs,
        flags: c_int,
        ...
    ) -> bool;
    fn lxcrs_attach_run_waitl(
        c: *mut lxc_container,
        options: *mut lxc_attach_options_t,
        program: *const c_char,
        arg: *const c_char,
        ...
    ) -> c_int;
}

/// NUL-terminated state names with static storage, for `state()`.
static STATE_NAMES: [&CStr; 8] = [
    c"STOPPED",
    c"STARTING",
    c"RUNNING",
    c"STOPPING",
    c"ABORTING",
    c"FREEZING",
    c"FROZEN",
    c"THAWED",
];

/// The C string of a state name returned by the core.
pub fn state_cstr(name: &str) -> &'static CStr {
    STATES
        .iter()
        .position(|s| *s == name)
        .map_or(c"STOPPED", |i| STATE_NAMES[i])
}

pub fn state_names() -> &'static [&'static CStr; 8] {
    &STATE_NAMES
}

fn no_config() -> Error {
    Error::new(libc::EINVAL, "No configuration loaded")
}

/// The caller cleared `c->configfile` and named no other file.
fn no_config_file() -> Error {
    Error::new(libc::EINVAL, "No config file found (configfile is NULL)")
}

unsafe extern "C" fn is_defined(c: *mut lxc_container) -> bool {
    entry(c, "is_defined", false, |h| {
        Ok(h.follow_configfile() && h.core.is_defined())
    })
}

unsafe extern "C" fn state(c: *mut lxc_container) -> *const c_char {
    entry(c, "state", ptr::null(), |h| {
        Ok(state_cstr(h.core.state()).as_ptr())
    })
}

unsafe extern "C" fn is_running(c: *mut lxc_container) -> bool {
    entry(c, "is_running", false, |h| Ok(h.core.is_running()))
}

unsafe extern "C" fn init_pid(c: *mut lxc_container) -> pid_t {
    entry(c, "init_pid", -1, |h| Ok(h.core.init_pid()))
}

unsafe extern "C" fn init_pidfd(c: *mut lxc_container) -> c_int {
    entry(c, "init_pidfd", -1, |h| {
        Ok(h.core.init_pidfd()?.into_raw_fd())
    })
}

unsafe extern "C" fn freeze(c: *mut lxc_container) -> bool {
    entry(c, "freeze", false, |h| {
        if !h.core.has_config() {
            return Err(no_config());
        }
        h.core.freeze().map(|()| true)
    })
}

unsafe extern "C" fn unfreeze(c: *mut lxc_container) -> bool {
    entry(c, "unfreeze", false, |h| {
        if !h.core.has_config() {
            return Err(no_config());
        }
        h.core.unfreeze().map(|()| true)
    })
}

unsafe extern "C" fn stop(c: *mut lxc_container) -> bool {
    entry(c, "stop", false, |h| h.core.stop().map(|()| true))
}

unsafe extern "C" fn reboot(c: *mut lxc_container) -> bool {
    entry(c, "reboot", false, |h| h.core.reboot().map(|()| true))
}

unsafe extern "C" fn reboot2(c: *mut lxc_container, timeout: c_int) -> bool {
    entry(c, "reboot2", false, |h| h.core.reboot2(timeout))
}

unsafe extern "C" fn shutdown(c: *mut lxc_container, timeout: c_int) -> bool {
    entry(c, "shutdown", false, |h| h.core.shutdown(timeout))
}

unsafe extern "C" fn wait(c: *mut lxc_container, state: *const c_char, timeout: c_int) -> bool {
    entry(c, "wait", false, |h| {
        h.core.wait(req_str(state, "state")?, timeout)
    })
}

unsafe extern "C" fn get_running_config_item(
    c: *mut lxc_container,
    key: *const c_char,
) -> *mut c_char {
    entry(c, "get_running_config_item", ptr::null_mut(), |h| {
        let value = h.core.get_running_config_item(req_str(key, "key")?)?;
        Ok(malloc_strdup(&value))
    })
}

/// Copies a NULL-terminated C argv into owned strings.
unsafe fn argv_vec(argv: *const *mut c_char) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if argv.is_null() {
        return Ok(out);
    }
    let mut i = 0;
    while !(*argv.add(i)).is_null() {
        out.push(req_str(*argv.add(i), "argv")?.to_string());
        i += 1;
    }
    Ok(out)
}

unsafe extern "C" fn start(
    c: *mut lxc_container,
    useinit: c_int,
    argv: *const *mut c_char,
) -> bool {
    entry(c, "start", false, |h| {
        let raw = h.raw();
        let opts = StartOptions {
            use_init: useinit != 0,
            argv: argv_vec(argv)?,
            daemonize: (*raw).daemonize,
            close_all_fds: h.core.close_all_fds(),
            pidfile: opt_str((*raw).pidfile, "pidfile")?.map(str::to_string),
            restore: None,
        };
        let status = h.core.start(&opts)?;
        if !opts.daemonize {
            // LXC reports a foreground container's exit status here.
            (*raw).error_num = status;
        }
        Ok(true)
    })
}

unsafe fn bdev_specs_of(specs: *const bdev_specs) -> Result<Option<BdevSpecs>> {
    let Some(s) = specs.as_ref() else {
        return Ok(None);
    };
    let own = |p: *mut c_char, what| opt_str(p, what).map(|v| v.map(str::to_string));
    Ok(Some(BdevSpecs {
        fstype: own(s.fstype, "fstype")?,
        fssize: s.fssize,
        zfs_root: own(s.zfs.zfsroot, "zfsroot")?,
        lvm_vg: own(s.lvm.vg, "vg")?,
        lvm_lv: own(s.lvm.lv, "lv")?,
        lvm_thinpool: own(s.lvm.thinpool, "thinpool")?,
        dir: own(s.dir, "dir")?,
        rbd_name: own(s.rbd.rbdname, "rbdname")?,
        rbd_pool: own(s.rbd.rbdpool, "rbdpool")?,
    }))
}

unsafe extern "C" fn create(
    c: *mut lxc_container,
    t: *const c_char,
    bdevtype: *const c_char,
    specs: *mut bdev_specs,
    flags: c_int,
    argv: *const *mut c_char,
) -> bool {
    entry(c, "create", false, |h| {
        if flags & !(LXC_CREATE_MAXFLAGS - 1) != 0 {
            return Err(Error::invalid(format!("Invalid create flags {flags:#x}")));
        }
        let opts = CreateOptions {
            template: opt_str(t, "template")?.map(str::to_string),
            bdevtype: opt_str(bdevtype, "bdevtype")?.map(str::to_string),
            specs: bdev_specs_of(specs)?,
            quiet: flags & LXC_CREATE_QUIET != 0,
            argv: argv_vec(argv)?,
        };
        h.follow_configfile();
        let result = h.core.create(&opts);
        h.sync_conf();
        result.map(|()| true)
    })
}

unsafe extern "C" fn destroy(c: *mut lxc_container) -> bool {
    entry(c, "destroy", false, |h| {
        h.follow_configfile();
        h.core.destroy().map(|()| true)
    })
}

unsafe extern "C" fn rename(c: *mut lxc_container, newname: *const c_char) -> bool {
    entry(c, "rename", false, |h| {
        h.core.rename(req_str(newname, "newname")?)?;
        h.replace_string(|c| addr_of_mut!((*c).name), &h.core.name());
        h.replace_string(
            |c| addr_of_mut!((*c).configfile),
            &h.core.config_file().to_string_lossy(),
        );
        Ok(true)
    })
}

unsafe extern "C" fn load_config(c: *mut lxc_container, alt_file: *const c_char) -> bool {
    entry(c, "load_config", false, |h| {
        let alt = opt_str(alt_file, "alt_file")?;
        if !h.follow_configfile() && alt.is_none() {
            return Err(no_config_file());
        }
        let result = h.core.load_config(alt.map(Path::new));
        h.sync_conf();
        result.map(|()| true)
    })
}

unsafe extern "C" fn want_daemonize(c: *mut lxc_container, state: bool) -> bool {
    entry(c, "want_daemonize", false, |h| {
        if !h.core.has_config() {
            return Err(no_config());
        }
        h.set_daemonize(state);
        Ok(true)
    })
}

unsafe extern "C" fn want_close_all_fds(c: *mut lxc_container, state: bool) -> bool {
    entry(c, "want_close_all_fds", false, |h| {
        if !h.core.has_config() {
            return Err(no_config());
        }
        h.core.set_close_all_fds(state);
        Ok(true)
    })
}

unsafe extern "C" fn config_file_name(c: *mut lxc_container) -> *mut c_char {
    // A copy of the field as the caller left it (LXC's strdup of it).
    entry(c, "config_file_name", ptr::null_mut(), |h| {
        let field = (*h.raw()).configfile;
        Ok(if field.is_null() {
            ptr::null_mut()
        } else {
            libc::strdup(field)
        })
    })
}

unsafe extern "C" fn set_config_item(
    c: *mut lxc_container,
    key: *const c_char,
    value: *const c_char,
) -> bool {
    entry(c, "set_config_item", false, |h| {
        let key = req_str(key, "key")?;
        // LXC's setters take a NULL value as an empty one: a clear.
        let value = opt_str(value, "value")?.unwrap_or("");
        let result = h.core.set_config_item(key, value);
        h.sync_conf();
        result.map(|()| true)
    })
}

unsafe extern "C" fn save_config(c: *mut lxc_container, alt_file: *const c_char) -> bool {
    entry(c, "save_config", false, |h| {
        let alt = opt_str(alt_file, "alt_file")?;
        if !h.follow_configfile() && alt.is_none() {
            return Err(no_config_file());
        }
        let result = h.core.save_config(alt.map(Path::new));
        h.sync_conf();
        result.map(|()| true)
    })
}

unsafe extern "C" fn clear_config(c: *mut lxc_container) {
    entry(c, "clear_config", (), |h| {
        h.core.clear_config();
        h.sync_conf();
        Ok(())
    })
}

unsafe extern "C" fn clear_config_item(c: *mut lxc_container, key: *const c_char) -> bool {
    entry(c, "clear_config_item", false, |h| {
        let key = req_str(key, "key")?;
        h.core.clear_config_item(key).map(|()| true)
    })
}

unsafe extern "C" fn get_config_item(
    c: *mut lxc_container,
    key: *const c_char,
    retv: *mut c_char,
    inlen: c_int,
) -> c_int {
    entry_errno(c, "get_config_item", |h| {
        let key = req_str(key, "key")?;
        if !h.core.has_config() {
            // LXC: -1 without a configuration.
            return Err(Error::new(1, "get_config_item: no configuration loaded"));
        }
        let value = h.core.get_config_item(key)?;
        Ok(if lxc_core::config::copies_whole(key) {
            copy_out_whole(&value, retv, inlen)
        } else {
            copy_out(&value, retv, inlen)
        })
    })
}

/// LXC's convention here differs from `get_config_item`: with a buffer it
/// returns the bytes read (at most `inlen`, NUL-terminated only if the
/// content is shorter), without one the full length. A stopped container
/// is -1; on a running one a buffer without length (or a length without
/// buffer) is `-EINVAL`, as LXC 6.0's `cgroup_get`.
unsafe extern "C" fn get_cgroup_item(
    c: *mut lxc_container,
    subsys: *const c_char,
    retv: *mut c_char,
    inlen: c_int,
) -> c_int {
    entry(c, "get_cgroup_item", -1, |h| {
        let subsys = req_str(subsys, "subsys")?;
        let data = h.core.get_cgroup_item(subsys)?;
        if retv.is_null() != (inlen == 0) || inlen < 0 {
            let e = Error::invalid("retv and inlen must both be set or both unset");
            h.set_error("get_cgroup_item", &e);
            return Ok(-libc::EINVAL);
        }
        if retv.is_null() {
            return Ok(c_int::try_from(data.len()).unwrap_or(c_int::MAX));
        }
        let cap = inlen as usize;
        ptr::write_bytes(retv, 0, cap);
        let n = data.len().min(cap);
        ptr::copy_nonoverlapping(data.as_ptr() as *const c_char, retv, n);
        Ok(n as c_int)
    })
}

unsafe extern "C" fn set_cgroup_item(
    c: *mut lxc_container,
    subsys: *const c_char,
    value: *const c_char,
) -> bool {
    entry(c, "set_cgroup_item", false, |h| {
        let subsys = req_str(subsys, "subsys")?;
        let value = req_str(value, "value")?;
        h.core.set_cgroup_item(subsys, value).map(|()| true)
    })
}

unsafe extern "C" fn get_keys(
    c: *mut lxc_container,
    key: *const c_char,
    retv: *mut c_char,
    inlen: c_int,
) -> c_int {
    entry_errno(c, "get_keys", |h| {
        let keys = h.core.get_keys(opt_str(key, "key")?)?;
        let joined: String = keys.iter().map(|k| format!("{k}\n")).collect();
        Ok(copy_out(&joined, retv, inlen))
    })
}

unsafe extern "C" fn get_interfaces(c: *mut lxc_container) -> *mut *mut c_char {
    entry(c, "get_interfaces", ptr::null_mut(), |h| {
        Ok(malloc_str_array(&h.core.get_interfaces()?))
    })
}

unsafe extern "C" fn get_ips(
    c: *mut lxc_container,
    interface: *const c_char,
    family: *const c_char,
    scope: c_int,
) -> *mut *mut c_char {
    entry(c, "get_ips", ptr::null_mut(), |h| {
        let ips = h.core.get_ips(
            opt_str(interface, "interface")?,
            opt_str(family, "family")?,
            scope,
        )?;
        // LXC returns NULL, not an empty array, when nothing matches.
        if ips.is_empty() {
            return Ok(ptr::null_mut());
        }
        Ok(malloc_str_array(&ips))
    })
}

unsafe extern "C" fn attach_interface(
    c: *mut lxc_container,
    dev: *const c_char,
    dst_dev: *const c_char,
) -> bool {
    entry(c, "attach_interface", false, |h| {
        h.core
            .attach_interface(req_str(dev, "dev")?, opt_str(dst_dev, "dst_dev")?)
            .map(|()| true)
    })
}

unsafe extern "C" fn detach_interface(
    c: *mut lxc_container,
    dev: *const c_char,
    dst_dev: *const c_char,
) -> bool {
    entry(c, "detach_interface", false, |h| {
        h.core
            .detach_interface(req_str(dev, "dev")?, opt_str(dst_dev, "dst_dev")?)
            .map(|()| true)
    })
}

unsafe extern "C" fn add_device_node(
    c: *mut lxc_container,
    src_path: *const c_char,
    dest_path: *const c_char,
) -> bool {
    entry(c, "add_device_node", false, |h| {
        h.core
            .add_device_node(
                req_str(src_path, "src_path")?,
                opt_str(dest_path, "dest_path")?,
            )
            .map(|()| true)
    })
}

unsafe extern "C" fn remove_device_node(
    c: *mut lxc_container,
    src_path: *const c_char,
    dest_path: *const c_char,
) -> bool {
    entry(c, "remove_device_node", false, |h| {
        h.core
            .remove_device_node(
                req_str(src_path, "src_path")?,
                opt_str(dest_path, "dest_path")?,
            )
            .map(|()| true)
    })
}

/// `data` is the filesystem's option string, as mount(2) takes it.
unsafe extern "C" fn mount(
    c: *mut lxc_container,
    source: *const c_char,
    target: *const c_char,
    filesystemtype: *const c_char,
    mountflags: c_ulong,
    data: *const c_void,
    _mnt: *mut lxc_mount,
) -> c_int {
    entry(c, "mount", -1, |h| {
        h.core
            .mount_inside(
                opt_str(source, "source")?,
                req_str(target, "target")?,
                opt_str(filesystemtype, "filesystemtype")?,
                mountflags,
                opt_str(data as *const c_char, "data")?,
            )
            .map(|()| 0)
    })
}

unsafe extern "C" fn umount(
    c: *mut lxc_container,
    target: *const c_char,
    mountflags: c_ulong,
    _mnt: *mut lxc_mount,
) -> c_int {
    // LXC 6.0: no configuration is -EINVAL; any other failure (stopped,
    // the umount2 inside) is 1, its helper's failed exit.
    entry(c, "umount", 1, |h| {
        if !h.core.has_config() {
            h.set_error("umount", &no_config());
            return Ok(-libc::EINVAL);
        }
        h.core
            .umount_inside(req_str(target, "target")?, mountflags as c_int)
            .map(|()| 0)
    })
}

unsafe extern "C" fn get_config_path(c: *mut lxc_container) -> *const c_char {
    entry(c, "get_config_path", ptr::null(), |h| {
        Ok((*h.raw()).config_path as *const c_char)
    })
}

unsafe extern "C" fn set_config_path(c: *mut lxc_container, path: *const c_char) -> bool {
    entry(c, "set_config_path", false, |h| {
        let path = req_str(path, "path")?;
        h.core.set_config_path(path)?;
        h.replace_string(|c| addr_of_mut!((*c).config_path), &h.core.lxcpath());
        h.replace_string(
            |c| addr_of_mut!((*c).configfile),
            &h.core.config_file().to_string_lossy(),
        );
        Ok(true)
    })
}

unsafe extern "C" fn may_control(c: *mut lxc_container) -> bool {
    entry(c, "may_control", false, |h| Ok(h.core.may_control()))
}

unsafe extern "C" fn set_timeout(c: *mut lxc_container, timeout: c_int) -> bool {
    entry(c, "set_timeout", false, |h| {
        h.core.set_rcv_timeout(timeout)?;
        h.set_rcv_timeout(h.core.rcv_timeout());
        Ok(true)
    })
}

/// A NULL-terminated C array of C strings as owned byte strings.
unsafe fn byte_vec(arr: *const *const c_char) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if arr.is_null() {
        return out;
    }
    let mut i = 0;
    while !(*arr.add(i)).is_null() {
        out.push(CStr::from_ptr(*arr.add(i)).to_bytes().to_vec());
        i += 1;
    }
    out
}

/// `lxc_attach_options_t` as the core's options (NULL: the defaults).
unsafe fn attach_options_of(p: *const lxc_attach_options_t) -> Result<AttachOptions> {
    let Some(o) = p.as_ref() else {
        return Ok(AttachOptions::default());
    };
    let groups = if o.groups.list.is_null() || o.groups.size == 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(o.groups.list, o.groups.size).to_vec()
    };
    Ok(AttachOptions {
        flags: o.attach_flags,
        namespaces: o.namespaces,
        personality: o.personality,
        initial_cwd: (!o.initial_cwd.is_null())
            .then(|| CStr::from_ptr(o.initial_cwd).to_bytes().to_vec()),
        uid: o.uid,
        gid: o.gid,
        // Read as an int: a C caller may store any value in the enum;
        // LXC treats everything but CLEAR_ENV as KEEP_ENV.
        env_policy: if std::ptr::addr_of!((*p).env_policy).cast::<c_int>().read()
            == lxc_attach_env_policy_t::LXC_ATTACH_CLEAR_ENV as c_int
        {
            EnvPolicy::Clear
        } else {
            EnvPolicy::Keep
        },
        extra_env_vars: byte_vec(o.extra_env_vars as *const *const c_char),
        extra_keep_env: byte_vec(o.extra_keep_env as *const *const c_char),
        stdin_fd: o.stdin_fd,
        stdout_fd: o.stdout_fd,
        stderr_fd: o.stderr_fd,
        log_fd: o.log_fd,
        lsm_label: opt_str(o.lsm_label, "lsm_label")?.map(str::to_string),
        groups,
    })
}

unsafe extern "C" fn attach(
    c: *mut lxc_container,
    exec_function: lxc_attach_exec_t,
    exec_payload: *mut c_void,
    options: *mut lxc_attach_options_t,
    attached_process: *mut pid_t,
) -> c_int {
    entry(c, "attach", -1, |h| {
        let exec = exec_function.ok_or_else(|| Error::invalid("exec_function: NULL"))?;
        if attached_process.is_null() {
            return Err(Error::invalid("attached_process: NULL"));
        }
        let opts = attach_options_of(options)?;
        let pid = match crate::attach_run::attach_command_of(exec, exec_payload) {
            Some((program, argv)) => {
                let argv = byte_vec(argv);
                h.core.attach(
                    Payload::Command {
                        program,
                        argv: &argv,
                    },
                    &opts,
                )?
            }
            None => h
                .core
                .attach(Payload::Function(exec, exec_payload), &opts)?,
        };
        *attached_process = pid;
        Ok(0)
    })
}

unsafe extern "C" fn attach_run_wait(
    c: *mut lxc_container,
    options: *mut lxc_attach_options_t,
    program: *const c_char,
    argv: *const *const c_char,
) -> c_int {
    entry(c, "attach_run_wait", -1, |h| {
        if program.is_null() {
            return Err(Error::invalid("program: NULL"));
        }
        let opts = attach_options_of(options)?;
        let program = CStr::from_ptr(program).to_bytes();
        h.core.attach_run_wait(&opts, program, &byte_vec(argv))
    })
}

unsafe extern "C" fn console_getfd(
    c: *mut lxc_container,
    ttynum: *mut c_int,
    ptxfd: *mut c_int,
) -> c_int {
    entry(c, "console_getfd", -1, |h| {
        if ttynum.is_null() || ptxfd.is_null() {
            return Err(Error::invalid("ttynum, ptxfd: NULL"));
        }
        let tty = h.core.console_getfd(*ttynum)?;
        *ttynum = tty.ttynum;
        *ptxfd = tty.master.into_raw_fd();
        Ok(tty.conn.into_raw_fd())
    })
}

unsafe extern "C" fn console(
    c: *mut lxc_container,
    ttynum: c_int,
    stdinfd: c_int,
    stdoutfd: c_int,
    stderrfd: c_int,
    escape: c_int,
) -> c_int {
    entry(c, "console", -1, |h| {
        h.core
            .console(ttynum, stdinfd, stdoutfd, stderrfd, escape)
            .map(|()| 0)
    })
}

/// LXC returns the monitor's -errno; for "nothing there" (ENODATA, EFAULT,
/// ENOENT) it also zeroes `*read_max` and `data`.
unsafe extern "C" fn console_log(c: *mut lxc_container, log: *mut lxc_console_log) -> c_int {
    entry(c, "console_log", -libc::EINVAL, |h| {
        if log.is_null() || (*log).read_max.is_null() {
            return Err(Error::invalid("log, log->read_max: NULL"));
        }
        let log = &mut *log;
        match h.core.console_log(log.clear, log.read, *log.read_max) {
            Ok(bytes) => {
                *log.read_max = bytes.len() as u64;
                log.data = malloc_bytes(&bytes);
                Ok(0)
            }
            Err(e) => {
                if matches!(e.errno, libc::ENODATA | libc::EFAULT | libc::ENOENT) {
                    // Not failures in LXC's book: nothing to report.
                    *log.read_max = 0;
                    log.data = ptr::null_mut();
                } else {
                    h.set_error("console_log", &e);
                }
                Ok(-e.errno)
            }
        }
    })
}

unsafe extern "C" fn devpts_fd(c: *mut lxc_container) -> c_int {
    entry(c, "devpts_fd", -libc::EBADF, |h| {
        Ok(h.core.devpts_fd()?.into_raw_fd())
    })
}

unsafe extern "C" fn seccomp_notify_fd(c: *mut lxc_container) -> c_int {
    entry(c, "seccomp_notify_fd", -1, |h| h.core.seccomp_notify_fd())
}

unsafe extern "C" fn seccomp_notify_fd_active(c: *mut lxc_container) -> c_int {
    entry(c, "seccomp_notify_fd_active", -1, |h| {
        Ok(h.core.seccomp_notify_fd_active()?.into_raw_fd())
    })
}

/// The strings of a NULL-terminated `char **` (NULL: none).
unsafe fn str_array(arr: *mut *mut c_char, what: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if arr.is_null() {
        return Ok(out);
    }
    let mut i = 0;
    while !(*arr.add(i)).is_null() {
        out.push(req_str(*arr.add(i), what)?.to_string());
        i += 1;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn clone(
    c: *mut lxc_container,
    newname: *const c_char,
    lxcpath: *const c_char,
    flags: c_int,
    bdevtype: *const c_char,
    bdevdata: *const c_char,
    newsize: u64,
    hookargs: *mut *mut c_char,
) -> *mut lxc_container {
    entry(c, "clone", ptr::null_mut(), |h| {
        h.follow_configfile();
        let opts = CloneOptions {
            newname: opt_str(newname, "newname")?.map(str::to_string),
            lxcpath: opt_str(lxcpath, "lxcpath")?.map(str::to_string),
            flags,
            bdevtype: opt_str(bdevtype, "bdevtype")?.map(str::to_string),
            bdevdata: opt_str(bdevdata, "bdevdata")?.map(str::to_string),
            newsize,
            hookargs: str_array(hookargs, "hookargs")?,
        };
        let core = h.core.clone_to(&opts)?;
        Ok(crate::handle::Handle::new_raw(core))
    })
}

unsafe extern "C" fn snapshot(c: *mut lxc_container, commentfile: *const c_char) -> c_int {
    entry(c, "snapshot", -1, |h| {
        h.follow_configfile();
        let comment = opt_str(commentfile, "commentfile")?.map(Path::new);
        Ok(h.core.snapshot(comment)? as c_int)
    })
}

/// The `free` member of `struct lxc_snapshot`: frees the members.
unsafe extern "C" fn lxcsnap_free(s: *mut lxc_snapshot) {
    if s.is_null() {
        return;
    }
    let s = &mut *s;
    for p in [
        &mut s.name,
        &mut s.comment_pathname,
        &mut s.timestamp,
        &mut s.lxcpath,
    ] {
        libc::free((*p).cast());
        *p = ptr::null_mut();
    }
}

unsafe extern "C" fn snapshot_list(
    c: *mut lxc_container,
    snapshots: *mut *mut lxc_snapshot,
) -> c_int {
    entry(c, "snapshot_list", -1, |h| {
        if snapshots.is_null() {
            return Err(Error::invalid("snapshots: NULL"));
        }
        h.follow_configfile();
        let list = h.core.snapshot_list()?;
        if list.is_empty() {
            *snapshots = ptr::null_mut();
            return Ok(0);
        }
        let arr =
            libc::calloc(list.len(), std::mem::size_of::<lxc_snapshot>()) as *mut lxc_snapshot;
        if arr.is_null() {
            return Err(Error::new(libc::ENOMEM, "Out of memory"));
        }
        for (i, s) in list.iter().enumerate() {
            arr.add(i).write(lxc_snapshot {
                name: malloc_strdup(&s.name),
                comment_pathname: malloc_strdup(&s.comment_pathname),
                timestamp: s
                    .timestamp
                    .as_deref()
                    .map_or(ptr::null_mut(), malloc_strdup),
                lxcpath: malloc_strdup(&s.lxcpath),
                free: Some(lxcsnap_free),
            });
        }
        *snapshots = arr;
        Ok(list.len() as c_int)
    })
}

unsafe extern "C" fn snapshot_restore(
    c: *mut lxc_container,
    snapname: *const c_char,
    newname: *const c_char,
) -> bool {
    entry(c, "snapshot_restore", false, |h| {
        h.follow_configfile();
        h.core
            .snapshot_restore(req_str(snapname, "snapname")?, opt_str(newname, "newname")?)?;
        h.sync_conf();
        Ok(true)
    })
}

unsafe extern "C" fn snapshot_destroy(c: *mut lxc_container, snapname: *const c_char) -> bool {
    entry(c, "snapshot_destroy", false, |h| {
        h.follow_configfile();
        h.core
            .snapshot_destroy(req_str(snapname, "snapname")?)
            .map(|()| true)
    })
}

unsafe extern "C" fn snapshot_destroy_all(c: *mut lxc_container) -> bool {
    entry(c, "snapshot_destroy_all", false, |h| {
        h.follow_configfile();
        h.core.snapshot_destroy_all().map(|()| true)
    })
}

unsafe extern "C" fn destroy_with_snapshots(c: *mut lxc_container) -> bool {
    entry(c, "destroy_with_snapshots", false, |h| {
        h.follow_configfile();
        h.core.destroy_with_snapshots().map(|()| true)
    })
}

unsafe extern "C" fn checkpoint(
    c: *mut lxc_container,
    directory: *mut c_char,
    stop: bool,
    verbose: bool,
) -> bool {
    entry(c, "checkpoint", false, |h| {
        h.core
            .checkpoint(req_str(directory, "directory")?, stop, verbose)
            .map(|()| true)
    })
}

unsafe extern "C" fn restore(c: *mut lxc_container, directory: *mut c_char, verbose: bool) -> bool {
    entry(c, "restore", false, |h| {
        h.core
            .restore(req_str(directory, "directory")?, verbose)
            .map(|()| true)
    })
}

unsafe extern "C" fn migrate(
    c: *mut lxc_container,
    cmd: c_uint,
    opts: *mut migrate_opts,
    size: c_uint,
) -> c_int {
    entry(c, "migrate", -1, |h| {
        let mut o = match crate::migrate::read_opts(opts, size) {
            Ok(o) => o,
            Err(e) => {
                h.set_error("migrate", &e);
                return Ok(-e.errno);
            }
        };
        let result = h.core.migrate(cmd, &mut o);
        crate::migrate::write_features(opts, size, o.features_to_check);
        result.map(|()| 0).or_else(|f| {
            h.set_error("migrate", &f.error);
            Ok(f.ret)
        })
    })
}

/// A `struct lxc_container` with every entry set and every field zeroed.
pub fn table() -> lxc_container {
    lxc_container {
        name: ptr::null_mut(),
        configfile: ptr::null_mut(),
        pidfile: ptr::null_mut(),
        slock: ptr::null_mut(),
        privlock: ptr::null_mut(),
        numthreads: 0,
        lxc_conf: ptr::null_mut(),
        error_string: ptr::null_mut(),
        error_num: 0,
        daemonize: false,
        config_path: ptr::null_mut(),
        is_defined: Some(is_defined),
        state: Some(state),
        is_running: Some(is_running),
        freeze: Some(freeze),
        unfreeze: Some(unfreeze),
        init_pid: Some(init_pid),
        load_config: Some(load_config),
        start: Some(start),
        startl: Some(lxcrs_startl),
        stop: Some(stop),
        want_daemonize: Some(want_daemonize),
        want_close_all_fds: Some(want_close_all_fds),
        config_file_name: Some(config_file_name),
        wait: Some(wait),
        set_config_item: Some(set_config_item),
        destroy: Some(destroy),
        save_config: Some(save_config),
        create: Some(create),
        createl: Some(lxcrs_createl),
        rename: Some(rename),
        reboot: Some(reboot),
        shutdown: Some(shutdown),
        clear_config: Some(clear_config),
        clear_config_item: Some(clear_config_item),
        get_config_item: Some(get_config_item),
        get_running_config_item: Some(get_running_config_item),
        get_keys: Some(get_keys),
        get_interfaces: Some(get_interfaces),
        get_ips: Some(get_ips),
        get_cgroup_item: Some(get_cgroup_item),
        set_cgroup_item: Some(set_cgroup_item),
        get_config_path: Some(get_config_path),
        set_config_path: Some(set_config_path),
        clone: Some(clone),
        console_getfd: Some(console_getfd),
        console: Some(console),
        attach: Some(attach),
        attach_run_wait: Some(attach_run_wait),
        attach_run_waitl: Some(lxcrs_attach_run_waitl),
        snapshot: Some(snapshot),
        snapshot_list: Some(snapshot_list),
        snapshot_restore: Some(snapshot_restore),
        snapshot_destroy: Some(snapshot_destroy),
        may_control: Some(may_control),
        add_device_node: Some(add_device_node),
        remove_device_node: Some(remove_device_node),
        attach_interface: Some(attach_interface),
        detach_interface: Some(detach_interface),
        checkpoint: Some(checkpoint),
        restore: Some(restore),
        destroy_with_snapshots: Some(destroy_with_snapshots),
        snapshot_destroy_all: Some(snapshot_destroy_all),
        migrate: Some(migrate),
        console_log: Some(console_log),
        reboot2: Some(reboot2),
        mount: Some(mount),
        umount: Some(umount),
        seccomp_notify_fd: Some(seccomp_notify_fd),
        seccomp_notify_fd_active: Some(seccomp_notify_fd_active),
        init_pidfd: Some(init_pidfd),
        devpts_fd: Some(devpts_fd),
        rcv_timeout: 0,
        set_timeout: Some(set_timeout),
    }
}
