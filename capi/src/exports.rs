//! The exported global functions of liblxc.so.1 (declared in
//! `<lxc/lxccontainer.h>`). Parsed by cbindgen.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::{Mutex, OnceLock};

use libc::{c_char, c_int};
use lxc_core::globals::{self, GlobalPaths};
use lxc_core::log::LogOptions;
use lxc_core::{listing, Container, Error, Result};

use crate::abi::lxccontainer::{lxc_container, lxc_log};
use crate::cstr::{malloc_str_array, opt_str, set_errno};
use crate::handle::{global, Handle};

/// Create a new container handle for `name` under `configpath` (the default
/// lxcpath when NULL). Returns NULL on bad input or an unreadable config.
#[no_mangle]
pub unsafe extern "C" fn lxc_container_new(
    name: *const c_char,
    configpath: *const c_char,
) -> *mut lxc_container {
    lxc_core::log::install();
    global("lxc_container_new", ptr::null_mut(), || {
        let name = opt_str(name, "name")?.ok_or_else(|| Error::invalid("name: NULL"))?;
        let lxcpath = opt_str(configpath, "configpath")?;
        let core = Container::new(name, lxcpath)?;
        Ok(Handle::new_raw(core))
    })
}

/// Take a reference: 1 on success, 0 when `c` is NULL or being freed.
#[no_mangle]
pub unsafe extern "C" fn lxc_container_get(c: *mut lxc_container) -> c_int {
    match Handle::from_ptr(c) {
        Some(h) => c_int::from(h.get_ref()),
        None => 0,
    }
}

/// Drop a reference: 1 when the handle was freed, 0 when references
/// remain, -1 when `c` is NULL.
#[no_mangle]
pub unsafe extern "C" fn lxc_container_put(c: *mut lxc_container) -> c_int {
    if c.is_null() {
        return -1;
    }
    c_int::from(Handle::put_ref(c))
}

/// Number of container states; fills `states` (when not NULL) with their names.
#[no_mangle]
pub unsafe extern "C" fn lxc_get_wait_states(states: *mut *const c_char) -> c_int {
    let names = crate::vtable::state_names();
    if !states.is_null() {
        for (i, name) in names.iter().enumerate() {
            *states.add(i) = name.as_ptr();
        }
    }
    names.len() as c_int
}

/// Value of a global configuration item (lxc.lxcpath, lxc.default_config,
/// ...), NULL with errno EINVAL for an unknown key. The string is static.
#[no_mangle]
pub unsafe extern "C" fn lxc_get_global_config_item(key: *const c_char) -> *const c_char {
    // Values are computed once per key and kept for the life of the
    // process, as LXC does, so the returned pointer stays valid.
    static CACHE: OnceLock<Mutex<HashMap<String, Option<&'static CStr>>>> = OnceLock::new();
    global("lxc_get_global_config_item", ptr::null(), || {
        let key = opt_str(key, "key")?.ok_or_else(|| Error::invalid("key: NULL"))?;
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(key) {
            return Ok(v.map_or(ptr::null(), |s| s.as_ptr()));
        }
        let value = globals::global_config_value(key, &GlobalPaths::current())
            .map_err(|errno| Error::new(errno, format!("Unknown global config key \"{key}\"")))?;
        let leaked: Option<&'static CStr> = value
            .and_then(|v| CString::new(v).ok())
            .map(|s| &*Box::leak(s.into_boxed_c_str()));
        cache.insert(key.to_string(), leaked);
        if leaked.is_none() {
            set_errno(0);
        }
        Ok(leaked.map_or(ptr::null(), |s| s.as_ptr()))
    })
}

/// The LXC version this library implements ("6.0.6").
#[no_mangle]
pub extern "C" fn lxc_get_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    VERSION
        .get_or_init(|| CString::new(crate::abi::version::LXC_VERSION).unwrap_or_default())
        .as_ptr()
}

/// Hands a list of names (and optionally new handles) to C; returns the count.
unsafe fn give_list(
    lxcpath: Option<&str>,
    names_found: Vec<String>,
    names: *mut *mut *mut c_char,
    cret: *mut *mut *mut lxc_container,
) -> Result<c_int> {
    let mut kept = names_found;
    // LXC hands out NULL, not an empty array, when there is nothing.
    if !cret.is_null() {
        *cret = ptr::null_mut();
    }
    if !names.is_null() {
        *names = ptr::null_mut();
    }
    if !cret.is_null() {
        let mut handles = Vec::with_capacity(kept.len());
        // A container whose config cannot be loaded is left out of both
        // arrays, as LXC does.
        kept.retain(|name| match Container::new(name, lxcpath) {
            Ok(core) => {
                handles.push(Handle::new_raw(core));
                true
            }
            Err(e) => {
                log::info!(target: "lxccontainer", "Skipping container \"{name}\": {}", e.message);
                false
            }
        });
        let arr = libc::calloc(handles.len() + 1, std::mem::size_of::<*mut lxc_container>())
            as *mut *mut lxc_container;
        if arr.is_null() {
            for h in handles {
                Handle::put_ref(h);
            }
            return Err(Error::new(libc::ENOMEM, "Out of memory"));
        }
        for (i, h) in handles.into_iter().enumerate() {
            *arr.add(i) = h;
        }
        *cret = arr;
    }
    if kept.is_empty() && !cret.is_null() {
        libc::free((*cret).cast());
        *cret = ptr::null_mut();
    }
    if !names.is_null() && !kept.is_empty() {
        let arr = malloc_str_array(&kept);
        if arr.is_null() {
            return Err(Error::new(libc::ENOMEM, "Out of memory"));
        }
        *names = arr;
    }
    c_int::try_from(kept.len()).map_err(|_| Error::new(libc::EOVERFLOW, "Too many containers"))
}

unsafe fn list_with(
    op: &str,
    lxcpath: *const c_char,
    names: *mut *mut *mut c_char,
    cret: *mut *mut *mut lxc_container,
    find: fn(&str) -> Result<Vec<String>>,
) -> c_int {
    lxc_core::log::install();
    global(op, -1, || {
        let given = opt_str(lxcpath, "lxcpath")?;
        let path = given.map_or_else(globals::default_lxcpath, str::to_string);
        give_list(given, find(&path)?, names, cret)
    })
}

/// Containers defined under `lxcpath`: their count, and malloc'd arrays of
/// names and of new handles when `names`/`cret` are not NULL.
#[no_mangle]
pub unsafe extern "C" fn list_defined_containers(
    lxcpath: *const c_char,
    names: *mut *mut *mut c_char,
    cret: *mut *mut *mut lxc_container,
) -> c_int {
    list_with(
        "list_defined_containers",
        lxcpath,
        names,
        cret,
        listing::defined_names,
    )
}

/// Containers running under `lxcpath`, as list_defined_containers.
#[no_mangle]
pub unsafe extern "C" fn list_active_containers(
    lxcpath: *const c_char,
    names: *mut *mut *mut c_char,
    cret: *mut *mut *mut lxc_container,
) -> c_int {
    list_with(
        "list_active_containers",
        lxcpath,
        names,
        cret,
        listing::active_names,
    )
}

/// Containers defined or running under `lxcpath`, as list_defined_containers.
#[no_mangle]
pub unsafe extern "C" fn list_all_containers(
    lxcpath: *const c_char,
    names: *mut *mut *mut c_char,
    cret: *mut *mut *mut lxc_container,
) -> c_int {
    list_with(
        "list_all_containers",
        lxcpath,
        names,
        cret,
        listing::all_names,
    )
}

/// Start logging (file, level, prefix, stderr copy). 0 on success, also
/// when logging was already started (a warning is logged); -1 on error,
/// -EINVAL for NULL (LXC's ret_errno).
#[no_mangle]
pub unsafe extern "C" fn lxc_log_init(log: *mut lxc_log) -> c_int {
    if log.is_null() {
        set_errno(libc::EINVAL);
        return -libc::EINVAL;
    }
    global("lxc_log_init", -1, || {
        let log = &*log;
        let owned = |p, what| opt_str(p, what).map(|s| s.map(str::to_string));
        let opts = LogOptions {
            name: owned(log.name, "name")?,
            lxcpath: owned(log.lxcpath, "lxcpath")?,
            file: owned(log.file, "file")?,
            level: opt_str(log.level, "level")?
                .map(lxc_core::log::Priority::parse_level)
                .transpose()?,
            prefix: owned(log.prefix, "prefix")?,
            quiet: log.quiet,
        };
        lxc_core::log::init(&opts).map(|_| 0)
    })
}

/// Stop logging to the file opened by lxc_log_init.
#[no_mangle]
pub extern "C" fn lxc_log_close() {
    lxc_core::log::close();
}

/// Whether `key` is a configuration key this library knows (exact match on
/// LXC 6.0's key table: "lxc.net" yes, "lxc.net.0.type" no).
#[no_mangle]
pub unsafe extern "C" fn lxc_config_item_is_supported(key: *const c_char) -> bool {
    global("lxc_config_item_is_supported", false, || {
        Ok(opt_str(key, "key")?.is_some_and(lxc_core::config::is_supported_key))
    })
}

/// Whether this library supports the named API extension (NULL: true).
#[no_mangle]
pub unsafe extern "C" fn lxc_has_api_extension(extension: *const c_char) -> bool {
    global("lxc_has_api_extension", false, || {
        Ok(lxc_core::version::has_api_extension(opt_str(
            extension,
            "extension",
        )?))
    })
}
