//! Finding CRIU (the `criu` on PATH, as LXC), its version and features,
//! and running it with its failure reported from its own log.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cmdline;
use crate::error::{Error, Result};

/// An installed CRIU recent enough for LXC's command lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criu {
    pub path: PathBuf,
    pub version: String,
}

/// The first executable `name` in $PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

impl Criu {
    /// The `criu` on PATH and its version; an error when there is none,
    /// it does not run, or it is older than LXC accepts.
    pub fn find() -> Result<Criu> {
        let path = on_path("criu").ok_or_else(|| {
            Error::new(
                libc::ENOENT,
                "Failed to find the criu binary on PATH: checkpoint/restore needs CRIU",
            )
        })?;
        let out = Command::new(&path)
            .arg("--version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| Error::os(format_args!("Failed to run {}", path.display()), &e))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = cmdline::parse_version(&text)
            .filter(|_| out.status.success())
            .ok_or_else(|| {
                Error::new(
                    libc::ENOEXEC,
                    format!("execing criu failed, is it installed? ({})", path.display()),
                )
            })?;
        if !cmdline::version_at_least(&version, super::MIN_VERSION) {
            return Err(Error::new(
                libc::EOPNOTSUPP,
                format!(
                    "must have criu {} or greater to checkpoint/restore ({} is {version})",
                    super::MIN_VERSION,
                    path.display()
                ),
            ));
        }
        Ok(Criu { path, version })
    }

    /// Whether `criu check --feature <name>` passes.
    pub fn has_feature(&self, name: &str) -> bool {
        Command::new(&self.path)
            .args(["check", "--feature", name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Fails unless CRIU can track memory changes, which pre-dumps
    /// (and dumps on top of one) need.
    pub fn need_memory_tracking(&self) -> Result<()> {
        if self.has_feature("mem_dirty_track") {
            return Ok(());
        }
        Err(Error::new(
            libc::EOPNOTSUPP,
            "CRIU cannot track memory changes on this kernel (criu check --feature \
             mem_dirty_track fails: no soft-dirty page tracking), which pre-dump needs",
        ))
    }
}

/// LXC's FEATURE_CHECK: the bits of `features` whose CRIU feature this
/// host lacks are cleared (an unknown bit: nothing is checked and 0 is
/// the answer). True when everything asked is there.
pub fn check_features(features: &mut u64) -> bool {
    let asked = *features;
    let known = super::FEATURE_MEM_TRACK | super::FEATURE_LAZY_PAGES;
    if asked & !known != 0 {
        *features = 0;
        return false;
    }
    // CRIU missing or too old supports nothing.
    let criu = Criu::find().ok();
    for bit in [super::FEATURE_MEM_TRACK, super::FEATURE_LAZY_PAGES] {
        let name = cmdline::feature_name(bit).unwrap_or_default();
        if asked & bit != 0 && !criu.as_ref().is_some_and(|c| c.has_feature(name)) {
            log::info!("CRIU feature {name} not supported");
            *features &= !bit;
        }
    }
    *features == asked
}

/// Runs a prepared CRIU command (`argv` for the messages) to its end;
/// a failure says what CRIU logged, and where its log is.
pub fn run(cmd: &mut Command, argv: &[String], action: &str, directory: &str) -> Result<()> {
    log::debug!("Running {}", argv.join(" "));
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::os(format_args!("Failed to run {}", argv[0]), &e))?;
    if out.status.success() {
        return Ok(());
    }
    let log_file = cmdline::log_path(directory, action);
    let logged = std::fs::read_to_string(&log_file).unwrap_or_default();
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    let line = cmdline::failure_line(&logged)
        .or_else(|| cmdline::failure_line(&output))
        .unwrap_or("no output");
    log::error!(
        "criu {action} failed ({}), its output: {output}",
        out.status
    );
    Err(Error::new(
        libc::EIO,
        format!(
            "criu {action} failed ({}): {line} (log: {log_file})",
            out.status
        ),
    ))
}

/// A command running `argv` (argv[0] is CRIU).
pub fn command(argv: &[String]) -> Command {
    let mut cmd = Command::new(Path::new(&argv[0]));
    cmd.args(&argv[1..]);
    cmd
}
