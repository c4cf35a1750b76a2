//! The commands LXC 6.0 runs for the `lvm`, `zfs`, `rbd` and `nbd`
//! backing stores (`lvm.c`, `zfs.c`, `rbd.c`, `nbd.c`), built as argv
//! vectors. The backends themselves are not built (this kernel has none of
//! LVM, ZFS, RBD or NBD, so nothing could be tested for real); these
//! builders are what a backend would run, checked against LXC's argv.

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `lvcreate` of `/dev/<vg>/<lv>` of `size` bytes, in `thinpool` when given
/// (`-Wy --yes` when lvcreate can wipe signatures, else `-qq`).
pub fn lvm_create(
    vg: &str,
    lv: &str,
    size: u64,
    thinpool: Option<&str>,
    sigwipe: bool,
) -> Vec<String> {
    let sz = format!("{size}b");
    let mut a = v(&["lvcreate"]);
    a.extend(if sigwipe {
        v(&["-Wy", "--yes"])
    } else {
        v(&["-qq"])
    });
    match thinpool {
        Some(tp) => a.extend(v(&["--thinpool", tp, "-V", &sz])),
        None => a.extend(v(&["-L", &sz])),
    }
    a.extend(v(&[vg, "-n", lv]));
    a
}

/// `lvcreate -s` of `source_lv` (a path) named `lv`; a thin snapshot needs no size.
pub fn lvm_snapshot(source_lv: &str, lv: &str, size: u64, thin: bool) -> Vec<String> {
    if thin {
        v(&["lvcreate", "-s", "-n", lv, source_lv])
    } else {
        v(&[
            "lvcreate",
            "-s",
            "-L",
            &format!("{size}b"),
            "-n",
            lv,
            source_lv,
        ])
    }
}

/// `lvremove -f /dev/<vg>/<lv>`.
pub fn lvm_remove(lv_path: &str) -> Vec<String> {
    v(&["lvremove", "-f", lv_path])
}

/// `zfs create` of `dataset` mounted (not automatically) on `mountpoint`.
pub fn zfs_create(dataset: &str, mountpoint: &str) -> Vec<String> {
    v(&[
        "zfs",
        "create",
        "-o",
        &format!("mountpoint={mountpoint}"),
        "-o",
        "canmount=noauto",
        "-p",
        dataset,
    ])
}

/// `zfs destroy -r <dataset>`.
pub fn zfs_destroy(dataset: &str) -> Vec<String> {
    v(&["zfs", "destroy", "-r", dataset])
}

/// `zfs snapshot -r <dataset>@<name>`.
pub fn zfs_snapshot(dataset: &str, name: &str) -> Vec<String> {
    v(&["zfs", "snapshot", "-r", &format!("{dataset}@{name}")])
}

/// `zfs clone` of a snapshot into `dataset` mounted on `mountpoint`.
pub fn zfs_clone(snapshot: &str, dataset: &str, mountpoint: &str) -> Vec<String> {
    v(&[
        "zfs",
        "clone",
        "-p",
        "-o",
        "canmount=noauto",
        "-o",
        &format!("mountpoint={mountpoint}"),
        snapshot,
        dataset,
    ])
}

fn rbd_id(user: Option<&str>) -> Vec<String> {
    user.map_or_else(Vec::new, |u| v(&["--id", u]))
}

/// `rbd create` of `name` in `pool`, `size` bytes (rbd counts MiB).
pub fn rbd_create(pool: &str, name: &str, size: u64, user: Option<&str>) -> Vec<String> {
    let mut a = v(&["rbd", "create"]);
    a.extend(rbd_id(user));
    a.extend(v(&[
        "--pool",
        pool,
        name,
        "--size",
        &(size / 1024 / 1024).to_string(),
    ]));
    a
}

/// `rbd map` of `name` in `pool` (it shows as /dev/rbd/<pool>/<name>).
pub fn rbd_map(pool: &str, name: &str, user: Option<&str>) -> Vec<String> {
    let mut a = v(&["rbd", "map"]);
    a.extend(rbd_id(user));
    a.extend(v(&["--pool", pool, name]));
    a
}

/// `rbd unmap /dev/rbd/<pool>/<name>`.
pub fn rbd_unmap(device: &str, user: Option<&str>) -> Vec<String> {
    let mut a = v(&["rbd", "unmap"]);
    a.extend(rbd_id(user));
    a.push(device.to_string());
    a
}

/// `rbd rm <pool>/<name>` for the source `/dev/rbd/<pool>/<name>`.
pub fn rbd_remove(device: &str, user: Option<&str>) -> Vec<String> {
    let full = device.strip_prefix("/dev/rbd/").unwrap_or(device);
    let mut a = v(&["rbd", "rm"]);
    a.extend(rbd_id(user));
    a.push(full.to_string());
    a
}

/// `qemu-nbd -c /dev/nbd<i> <image>` (kept running while attached).
pub fn nbd_connect(index: u32, image: &str) -> Vec<String> {
    v(&["qemu-nbd", "-c", &format!("/dev/nbd{index}"), image])
}

/// The device nbd mounts: the whole disk, or partition `part`.
pub fn nbd_device(index: u32, part: Option<u32>) -> String {
    match part {
        Some(p) => format!("/dev/nbd{index}p{p}"),
        None => format!("/dev/nbd{index}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lvm() {
        assert_eq!(
            lvm_create("vg0", "c1", 1 << 30, None, true).join(" "),
            "lvcreate -Wy --yes -L 1073741824b vg0 -n c1"
        );
        assert_eq!(
            lvm_create("vg0", "c1", 1024, Some("lxc"), false).join(" "),
            "lvcreate -qq --thinpool lxc -V 1024b vg0 -n c1"
        );
        assert_eq!(
            lvm_snapshot("/dev/vg0/c1", "c2", 2048, false).join(" "),
            "lvcreate -s -L 2048b -n c2 /dev/vg0/c1"
        );
        assert_eq!(
            lvm_snapshot("/dev/vg0/c1", "c2", 2048, true).join(" "),
            "lvcreate -s -n c2 /dev/vg0/c1"
        );
        assert_eq!(
            lvm_remove("/dev/vg0/c1").join(" "),
            "lvremove -f /dev/vg0/c1"
        );
    }

    #[test]
    fn zfs() {
        assert_eq!(
            zfs_create("lxc/c1", "/var/lib/lxc/c1/rootfs").join(" "),
            "zfs create -o mountpoint=/var/lib/lxc/c1/rootfs -o canmount=noauto -p lxc/c1"
        );
        assert_eq!(zfs_destroy("lxc/c1").join(" "), "zfs destroy -r lxc/c1");
        assert_eq!(
            zfs_snapshot("lxc/c1", "c2").join(" "),
            "zfs snapshot -r lxc/c1@c2"
        );
        assert_eq!(
            zfs_clone("lxc/c1@c2", "lxc/c2", "/l/c2/rootfs").join(" "),
            "zfs clone -p -o canmount=noauto -o mountpoint=/l/c2/rootfs lxc/c1@c2 lxc/c2"
        );
    }

    #[test]
    fn rbd_and_nbd() {
        assert_eq!(
            rbd_create("lxc", "c1", 1 << 30, None).join(" "),
            "rbd create --pool lxc c1 --size 1024"
        );
        assert_eq!(
            rbd_create("lxc", "c1", 1 << 30, Some("admin")).join(" "),
            "rbd create --id admin --pool lxc c1 --size 1024"
        );
        assert_eq!(
            rbd_map("lxc", "c1", None).join(" "),
            "rbd map --pool lxc c1"
        );
        assert_eq!(
            rbd_unmap("/dev/rbd/lxc/c1", None).join(" "),
            "rbd unmap /dev/rbd/lxc/c1"
        );
        assert_eq!(
            rbd_remove("/dev/rbd/lxc/c1", None).join(" "),
            "rbd rm lxc/c1"
        );
        assert_eq!(
            nbd_connect(3, "/img.qcow2").join(" "),
            "qemu-nbd -c /dev/nbd3 /img.qcow2"
        );
        assert_eq!(nbd_device(3, Some(1)), "/dev/nbd3p1");
        assert_eq!(nbd_device(0, None), "/dev/nbd0");
    }
}
