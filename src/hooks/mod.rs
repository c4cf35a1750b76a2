//! `lxc.hook.*`: running a container's hook scripts as LXC's
//! `run_lxc_hooks` / `run_script_argv` do.
//!
//! Each hook is one shell command line: version 0 hooks run as
//! `exec <script> '<name>' 'lxc' '<type>' [extra...]`, version 1 hooks as
//! `exec <script> [extra...]` with LXC_HOOK_TYPE and LXC_HOOK_SECTION in
//! the environment. Standard output goes to the log; a non-zero exit of
//! any hook fails the run (and the start or stop step that ran it).
//!
//! Where each type runs: pre-start, start-host, stop and post-stop in the
//! monitor (host namespaces); pre-mount, mount, autodev and start in the
//! container's init before its exec (its namespaces; start after
//! pivot_root, so the script must exist inside the rootfs); destroy in
//! `destroy`; clone in `clone`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::config::{Config, HOOK_NAMES};
use crate::error::{Error, Result};

/// The section of container hooks (network scripts use "net").
const SECTION: &str = "lxc";

/// The hooks of one container and the environment LXC exports to all of
/// them (LXC's `lxc_init` setenv block).
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    pub name: String,
    pub version: u32,
    /// Commands indexed like [`HOOK_NAMES`].
    pub scripts: [Vec<String>; 10],
    /// LXC_NAME, LXC_CONFIG_FILE, LXC_ROOTFS_*, LXC_CONSOLE*, ...
    pub env: Vec<(String, String)>,
}

/// A rootfs (overlay, loop) a hook gets mounted in its own mount namespace.
pub type HookMount = std::sync::Arc<crate::storage::ChildMount>;

/// The shell command line of one hook.
pub fn command_line(
    script: &str,
    name: &str,
    hook_type: &str,
    version: u32,
    extra: &[String],
) -> String {
    command_line_in(script, name, SECTION, hook_type, version, extra)
}

/// As `command_line` for another configuration section ("net" for the
/// `lxc.net.<i>.script.*` scripts).
pub fn command_line_in(
    script: &str,
    name: &str,
    section: &str,
    hook_type: &str,
    version: u32,
    extra: &[String],
) -> String {
    let mut line = if version == 0 {
        format!("exec {script} '{name}' '{section}' '{hook_type}'")
    } else {
        format!("exec {script}")
    };
    for a in extra {
        line.push(' ');
        line.push_str(a);
    }
    line
}

/// The environment LXC exports to every hook of a container: name,
/// configuration file, rootfs, console (each only when configured).
pub fn base_env(name: &str, config_file: &Path, config: &Config) -> Vec<(String, String)> {
    let conf = config.conf();
    let mut env = vec![
        ("LXC_NAME".to_string(), name.to_string()),
        (
            "LXC_CONFIG_FILE".to_string(),
            config_file.display().to_string(),
        ),
    ];
    let optional = [
        ("LXC_ROOTFS_MOUNT", &conf.rootfs_mount),
        ("LXC_ROOTFS_PATH", &conf.rootfs_path),
        ("LXC_CONSOLE", &conf.console_path),
        ("LXC_CONSOLE_LOGPATH", &conf.console_logfile),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            env.push((k.to_string(), v.clone()));
        }
    }
    env
}

/// Sets `key` in `env`, replacing an earlier value.
pub fn set_env(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), value.to_string()));
}

impl Hooks {
    /// The hooks of a container about to start, with the start-time
    /// environment: the base plus LXC_CGNS_AWARE, LXC_LOG_LEVEL and
    /// LXC_HOOK_VERSION. The starter then points LXC_ROOTFS_MOUNT at where
    /// the rootfs really is mounted ([`Hooks::set_rootfs_mount`]).
    pub fn for_start(name: &str, config_file: &Path, config: &Config) -> Hooks {
        let conf = config.conf();
        let mut env = base_env(name, config_file, config);
        if Path::new("/proc/self/ns/cgroup").exists() {
            set_env(&mut env, "LXC_CGNS_AWARE", "1");
        }
        // An unset level is LXC's default, ERROR.
        let level = crate::log::Priority::from_level(conf.log_level);
        set_env(
            &mut env,
            "LXC_LOG_LEVEL",
            level.unwrap_or(crate::log::Priority::Error).name(),
        );
        set_env(
            &mut env,
            "LXC_HOOK_VERSION",
            if conf.hooks_version == 0 { "0" } else { "1" },
        );
        Hooks {
            name: name.to_string(),
            version: conf.hooks_version,
            scripts: conf.hooks.clone(),
            env,
        }
    }

    /// LXC_ROOTFS_MOUNT: where the container's rootfs is mounted while it
    /// runs (we mount it onto itself, LXC onto `lxc.rootfs.mount`).
    pub fn set_rootfs_mount(&mut self, path: &Path) {
        set_env(&mut self.env, "LXC_ROOTFS_MOUNT", &path.to_string_lossy());
    }

    /// The hooks with only the base environment (destroy, clone).
    pub fn plain(name: &str, config_file: &Path, config: &Config) -> Hooks {
        let conf = config.conf();
        Hooks {
            name: name.to_string(),
            version: conf.hooks_version,
            scripts: conf.hooks.clone(),
            env: base_env(name, config_file, config),
        }
    }

    fn index(hook_type: &str) -> Result<usize> {
        HOOK_NAMES
            .iter()
            .position(|h| *h == hook_type)
            .ok_or_else(|| Error::invalid(format!("Unknown hook type \"{hook_type}\"")))
    }

    /// Whether any hook of this type is configured.
    pub fn has(&self, hook_type: &str) -> bool {
        Self::index(hook_type)
            .map(|i| !self.scripts[i].is_empty())
            .unwrap_or(false)
    }

    /// The full environment of one hook run: the base, then `extra`
    /// (later entries win), then the version 1 variables.
    pub fn env_for(&self, hook_type: &str, extra: &[(String, String)]) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        for (k, v) in extra {
            set_env(&mut env, k, v);
        }
        if self.version != 0 {
            set_env(&mut env, "LXC_HOOK_TYPE", hook_type);
            set_env(&mut env, "LXC_HOOK_SECTION", SECTION);
        }
        env
    }

    /// Runs each hook of `hook_type` in order through `/bin/sh -c`; the
    /// first that fails stops the run with an error naming it.
    pub fn run(
        &self,
        hook_type: &str,
        extra_env: &[(String, String)],
        args: &[String],
    ) -> Result<()> {
        self.run_with_mount(hook_type, extra_env, args, None)
    }

    /// As `run`, each hook in a private mount namespace where `mount` (an
    /// overlay or loop rootfs) is mounted first: the clone hook of such a
    /// container sees its rootfs without it being mounted on the host.
    pub fn run_with_mount(
        &self,
        hook_type: &str,
        extra_env: &[(String, String)],
        args: &[String],
        mount: Option<&HookMount>,
    ) -> Result<()> {
        let which = Self::index(hook_type)?;
        if self.scripts[which].is_empty() {
            return Ok(());
        }
        let env = self.env_for(hook_type, extra_env);
        for script in &self.scripts[which] {
            let line = command_line(script, &self.name, hook_type, self.version, args);
            self.run_line(&format!("lxc.hook.{hook_type}"), script, &line, &env, mount)?;
        }
        Ok(())
    }

    /// `lxc.net.<i>.script.up` / `script.down`: section "net", the hook
    /// "up"/"down", LXC's arguments (`<type> <link> [<host veth>]`) and,
    /// for version 1, LXC_NET_TYPE / LXC_NET_PARENT / LXC_NET_PEER.
    pub fn run_net_script(
        &self,
        key: &str,
        script: &str,
        hook: &str,
        argv: &[String],
    ) -> Result<()> {
        let mut extra = Vec::new();
        if self.version != 0 {
            extra.push(("LXC_HOOK_TYPE".to_string(), hook.to_string()));
            extra.push(("LXC_HOOK_SECTION".to_string(), "net".to_string()));
            let kind = argv.first().cloned().unwrap_or_default();
            extra.push(("LXC_NET_TYPE".to_string(), kind.clone()));
            if matches!(kind.as_str(), "veth" | "macvlan" | "phys") {
                extra.push((
                    "LXC_NET_PARENT".to_string(),
                    argv.get(1).cloned().unwrap_or_default(),
                ));
            }
            if kind == "veth" {
                extra.push((
                    "LXC_NET_PEER".to_string(),
                    argv.get(2).cloned().unwrap_or_default(),
                ));
            }
        }
        let mut env = self.env.clone();
        for (k, v) in &extra {
            set_env(&mut env, k, v);
        }
        let line = command_line_in(script, &self.name, "net", hook, self.version, argv);
        self.run_line(key, script, &line, &env, None)
    }

    /// Runs one script line through `/bin/sh -c`; `what` names it in errors.
    fn run_line(
        &self,
        what: &str,
        script: &str,
        line: &str,
        env: &[(String, String)],
        mount: Option<&HookMount>,
    ) -> Result<()> {
        log::info!(
            "Executing {what} \"{script}\" for container \"{}\"",
            self.name
        );
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(line)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if let Some(m) = mount {
            crate::storage::in_private_mounts(&mut cmd, vec![m.clone()]);
        }
        let out = cmd
            .output()
            .map_err(|e| Error::os(format_args!("Failed to run {what} \"{script}\""), &e))?;
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            log::debug!("Script {script} with output: {l}");
        }
        if !out.status.success() {
            return Err(Error::new(
                libc::ECANCELED,
                format!(
                    "{what} \"{script}\" for container \"{}\" failed ({})",
                    self.name, out.status
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            command_line("/h/x.sh arg", "c1", "destroy", 0, &[]),
            "exec /h/x.sh arg 'c1' 'lxc' 'destroy'"
        );
        assert_eq!(
            command_line("/h/x.sh", "c1", "destroy", 1, &[]),
            "exec /h/x.sh"
        );
        let ns = vec![
            "mnt:/proc/9/fd/5".to_string(),
            "net:/proc/9/fd/6".to_string(),
        ];
        assert_eq!(
            command_line("/h/x", "c", "stop", 0, &ns),
            "exec /h/x 'c' 'lxc' 'stop' mnt:/proc/9/fd/5 net:/proc/9/fd/6"
        );
    }

    #[test]
    fn start_env() {
        let mut c = Config::new();
        c.set_item("lxc.rootfs.path", "dir:/x/rootfs").unwrap();
        c.set_item("lxc.log.level", "DEBUG").unwrap();
        let mut h = Hooks::for_start("c1", Path::new("/x/config"), &c);
        h.set_rootfs_mount(Path::new("/x/rootfs"));
        let get = |env: &[(String, String)], k: &str| {
            env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        };
        assert_eq!(get(&h.env, "LXC_NAME").as_deref(), Some("c1"));
        assert_eq!(get(&h.env, "LXC_CONFIG_FILE").as_deref(), Some("/x/config"));
        assert_eq!(get(&h.env, "LXC_ROOTFS_PATH").as_deref(), Some("/x/rootfs"));
        assert_eq!(
            get(&h.env, "LXC_ROOTFS_MOUNT").as_deref(),
            Some("/x/rootfs")
        );
        assert_eq!(get(&h.env, "LXC_LOG_LEVEL").as_deref(), Some("DEBUG"));
        assert_eq!(get(&h.env, "LXC_HOOK_VERSION").as_deref(), Some("0"));
        let v0 = h.env_for("stop", &[("LXC_TARGET".into(), "stop".into())]);
        assert_eq!(get(&v0, "LXC_TARGET").as_deref(), Some("stop"));
        assert_eq!(get(&v0, "LXC_HOOK_TYPE"), None);
        c.set_item("lxc.hook.version", "1").unwrap();
        let h = Hooks::for_start("c1", Path::new("/x/config"), &c);
        let v1 = h.env_for("mount", &[]);
        assert_eq!(get(&v1, "LXC_HOOK_TYPE").as_deref(), Some("mount"));
        assert_eq!(get(&v1, "LXC_HOOK_SECTION").as_deref(), Some("lxc"));
        assert_eq!(get(&v1, "LXC_HOOK_VERSION").as_deref(), Some("1"));
    }

    #[test]
    fn run_in_order_and_fail() {
        let d = std::env::temp_dir().join(format!("lxc-hooks-mod-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let out = d.join("out");
        let mut c = Config::new();
        for tag in ["one", "two"] {
            c.set_item(
                "lxc.hook.pre-start",
                &format!(
                    "/bin/sh -c 'echo \"{tag} $0 $1 $2 $LXC_NAME $X\" >> {}'",
                    out.display()
                ),
            )
            .unwrap();
        }
        let h = Hooks::plain("c1", Path::new("/x/config"), &c);
        assert!(h.has("pre-start"));
        assert!(!h.has("stop"));
        h.run("pre-start", &[("X".into(), "y".into())], &[])
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "one c1 lxc pre-start c1 y\ntwo c1 lxc pre-start c1 y\n"
        );
        c.set_item("lxc.hook.stop", "/bin/false").unwrap();
        let h = Hooks::plain("c1", Path::new("/x/config"), &c);
        let e = h.run("stop", &[], &[]).unwrap_err();
        assert!(
            e.message.contains("lxc.hook.stop \"/bin/false\""),
            "{}",
            e.message
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
