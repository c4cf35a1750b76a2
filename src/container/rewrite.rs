//! Edits of a saved configuration text shared by `rename` and `clone`
//! (LXC's `clear_unexp_config_line` + `do_append_unexp_config_line`,
//! `clone_update_unexp_hooks`, `copy_fstab`, `network_new_hwaddrs`). They
//! work on the unexpanded text so that includes and comments survive.

/// The key of a config line ("lxc.uts.name" for "  lxc.uts.name = x").
pub fn line_key(line: &str) -> &str {
    let l = line.trim_start();
    l.split_once('=').map_or("", |(k, _)| k.trim_end())
}

/// The value of a config line ("x" for "lxc.uts.name = x\n").
pub fn line_value(line: &str) -> &str {
    line.split_once('=').map_or("", |(_, v)| v.trim())
}

/// `value` with `old_dir` (as a whole path component) replaced by `new_dir`.
pub fn repoint(value: &str, old_dir: &str, new_dir: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find(old_dir) {
        let after = &rest[i + old_dir.len()..];
        let whole = after.is_empty()
            || after.starts_with('/')
            || after.starts_with(':')
            || after.starts_with(char::is_whitespace);
        out.push_str(&rest[..i]);
        out.push_str(if whole { new_dir } else { old_dir });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// What to change when a container's directory becomes another one.
#[derive(Debug, Clone, Default)]
pub struct Rewrite<'a> {
    /// `<lxcpath>/<old name>`.
    pub old_dir: &'a str,
    /// `<lxcpath>/<new name>`.
    pub new_dir: &'a str,
    /// The new `lxc.uts.name` (None keeps the old lines: LXC_CLONE_KEEPNAME).
    pub uts_name: Option<&'a str>,
    /// The new `lxc.rootfs.path`; None repoints the old one.
    pub rootfs: Option<&'a str>,
    /// The new `lxc.mount.fstab`; None repoints the old one.
    pub fstab: Option<&'a str>,
}

/// The configuration text with `lxc.rootfs.path`, `lxc.uts.name` (and the
/// legacy `lxc.utsname`) and `lxc.mount.fstab` dropped and re-appended
/// with their new values, as LXC does, and hook paths that pointed into
/// the old directory pointing into the new one.
pub fn rewrite_config_text(text: &str, r: &Rewrite) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rootfs: Option<String> = None;
    let mut fstab: Option<String> = None;
    for line in text.split_inclusive('\n') {
        match line_key(line) {
            "lxc.rootfs.path" | "lxc.rootfs" => {
                rootfs = Some(repoint(line_value(line), r.old_dir, r.new_dir));
            }
            "lxc.uts.name" | "lxc.utsname" if r.uts_name.is_some() => {}
            "lxc.mount.fstab" => fstab = Some(repoint(line_value(line), r.old_dir, r.new_dir)),
            k if k.starts_with("lxc.hook") => out.push_str(&repoint(line, r.old_dir, r.new_dir)),
            _ => out.push_str(line),
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let rootfs = r.rootfs.map(str::to_string).or(rootfs);
    if let Some(v) = rootfs.filter(|v| !v.is_empty()) {
        out.push_str(&format!("lxc.rootfs.path = {v}\n"));
    }
    if let Some(name) = r.uts_name {
        out.push_str(&format!("lxc.uts.name = {name}\n"));
    }
    let fstab = if fstab.is_some() {
        r.fstab.map(str::to_string).or(fstab)
    } else {
        None
    };
    if let Some(v) = fstab.filter(|v| !v.is_empty()) {
        out.push_str(&format!("lxc.mount.fstab = {v}\n"));
    }
    out
}

/// LXC's `lxc_config_net_is_hwaddr`: "lxc.net.hwaddr", "lxc.network.hwaddr",
/// "lxc.net.<i>.hwaddr", "lxc.network.<i>.hwaddr" at the start of a line.
pub fn is_hwaddr_line(line: &str) -> bool {
    let Some(rest) = line
        .strip_prefix("lxc.net.")
        .or_else(|| line.strip_prefix("lxc.network."))
    else {
        return false;
    };
    if rest.starts_with("hwaddr") {
        return true;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(".hwaddr")
}

/// A new address as LXC's `new_hwaddr`: "10:66:6a:xx:xx:xx".
pub fn new_hwaddr(mut rand: impl FnMut() -> u32) -> String {
    format!(
        "10:66:6a:{:02x}:{:02x}:{:02x}",
        rand() % 255,
        rand() % 255,
        rand() % 255
    )
}

/// LXC's `network_new_hwaddrs`: every hwaddr line whose value is a
/// 17-character address gets a new random one.
pub fn new_hwaddrs(text: &str, mut rand: impl FnMut() -> u32) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !is_hwaddr_line(line) {
            out.push_str(line);
            continue;
        }
        let Some(eq) = line.find('=') else {
            out.push_str(line);
            continue;
        };
        let after = &line[eq + 1..];
        let start = eq + 1 + (after.len() - after.trim_start_matches([' ', '\t']).len());
        let value_len = line[start..]
            .find([' ', '\t', '\n'])
            .unwrap_or(line.len() - start);
        if value_len != 17 {
            log::warn!("Bad hwaddr entry: {}", line.trim_end());
            out.push_str(line);
            continue;
        }
        out.push_str(&line[..start]);
        out.push_str(&new_hwaddr(&mut rand));
        out.push_str(&line[start + 17..]);
    }
    out
}

/// A random number from the kernel (for hardware addresses).
pub fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: writes at most 4 bytes into `b`.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 4, 0) };
    if n != 4 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        return t ^ std::process::id();
    }
    u32::from_ne_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(text: &str, old: &str, new: &str, name: &str) -> String {
        rewrite_config_text(
            text,
            &Rewrite {
                old_dir: old,
                new_dir: new,
                uts_name: Some(name),
                ..Default::default()
            },
        )
    }

    #[test]
    fn rename_text() {
        let text = "# Template used\nlxc.rootfs.path = dir:/p/old/rootfs\nlxc.uts.name = \"old\"\n\
                    lxc.hook.destroy = /p/old/hook.sh arg\nlxc.mount.fstab = /p/old/fstab\n\
                    lxc.mount.entry = /p/older x none bind 0 0\nlxc.utsname = old\nlxc.tty.max = 5\n";
        assert_eq!(
            renamed(text, "/p/old", "/p/new", "new"),
            "# Template used\nlxc.hook.destroy = /p/new/hook.sh arg\n\
             lxc.mount.entry = /p/older x none bind 0 0\nlxc.tty.max = 5\n\
             lxc.rootfs.path = dir:/p/new/rootfs\nlxc.uts.name = new\nlxc.mount.fstab = /p/new/fstab\n"
        );
        // An external rootfs stays; no rootfs stays none.
        assert_eq!(
            renamed("lxc.rootfs.path = /srv/r", "/p/old", "/p/new", "n"),
            "lxc.rootfs.path = /srv/r\nlxc.uts.name = n\n"
        );
        assert_eq!(renamed("", "/p/old", "/p/new", "n"), "lxc.uts.name = n\n");
        assert_eq!(
            repoint("/p/oldx/a /p/old", "/p/old", "/p/new"),
            "/p/oldx/a /p/new"
        );
        // An overlay rootfs has both paths in one value.
        assert_eq!(
            repoint(
                "overlay:/p/base/rootfs:/p/old/overlay/delta",
                "/p/old",
                "/p/new"
            ),
            "overlay:/p/base/rootfs:/p/new/overlay/delta"
        );
    }

    #[test]
    fn clone_text() {
        let text =
            "lxc.rootfs.path = dir:/p/a/rootfs\nlxc.uts.name = a\nlxc.mount.fstab = /etc/x/fstab\n\
                    lxc.hook.clone = /p/a/h.sh\nlxc.hook.pre-start = /usr/share/h\n";
        let r = Rewrite {
            old_dir: "/p/a",
            new_dir: "/q/b",
            uts_name: None,
            rootfs: Some("overlay:/p/a/rootfs:/q/b/overlay/delta"),
            fstab: Some("/q/b/fstab"),
        };
        assert_eq!(
            rewrite_config_text(text, &r),
            "lxc.uts.name = a\nlxc.hook.clone = /q/b/h.sh\nlxc.hook.pre-start = /usr/share/h\n\
             lxc.rootfs.path = overlay:/p/a/rootfs:/q/b/overlay/delta\nlxc.mount.fstab = /q/b/fstab\n"
        );
    }

    #[test]
    fn hwaddrs() {
        assert!(is_hwaddr_line("lxc.net.0.hwaddr = x"));
        assert!(is_hwaddr_line("lxc.net.12.hwaddr=x"));
        assert!(is_hwaddr_line("lxc.network.hwaddr = x"));
        assert!(is_hwaddr_line("lxc.net.hwaddr = x"));
        assert!(!is_hwaddr_line("lxc.net.0.link = x"));
        assert!(!is_hwaddr_line(" lxc.net.0.hwaddr = x"));
        assert!(!is_hwaddr_line("lxc.net.x.hwaddr = x"));
        let mut n = 0u32;
        let rand = move || {
            n += 1;
            n
        };
        let text = "lxc.net.0.type = veth\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\nlxc.net.1.hwaddr = bad\nlxc.net.2.hwaddr=00:16:3e:aa:bb:cc # c\n";
        assert_eq!(
            new_hwaddrs(text, rand),
            "lxc.net.0.type = veth\nlxc.net.0.hwaddr = 10:66:6a:01:02:03\nlxc.net.1.hwaddr = bad\nlxc.net.2.hwaddr=10:66:6a:04:05:06 # c\n"
        );
        assert_eq!(new_hwaddr(|| 254 + 255), "10:66:6a:fe:fe:fe");
    }
}
