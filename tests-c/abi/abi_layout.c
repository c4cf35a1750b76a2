/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints sizeof/offsetof of every member of the public structs. Built once
 * against our headers and once against Debian's LXC 5.0 headers; the two
 * outputs must agree on every shared line (tests-c/abi-check.sh).
 */
#include <errno.h> /* Debian's attach_options.h uses EBADF without it */
#include <stddef.h>
#include <stdio.h>
#include <lxc/lxccontainer.h>
#include <lxc/version.h>

#define SIZE(type) printf("sizeof %s %zu\n", #type, sizeof(type))
#define OFF(type, member) printf("offsetof %s.%s %zu\n", #type, #member, offsetof(type, member))

int main(void)
{
	SIZE(struct lxc_container);
	OFF(struct lxc_container, name);
	OFF(struct lxc_container, configfile);
	OFF(struct lxc_container, pidfile);
	OFF(struct lxc_container, slock);
	OFF(struct lxc_container, privlock);
	OFF(struct lxc_container, numthreads);
	OFF(struct lxc_container, lxc_conf);
	OFF(struct lxc_container, error_string);
	OFF(struct lxc_container, error_num);
	OFF(struct lxc_container, daemonize);
	OFF(struct lxc_container, config_path);
	OFF(struct lxc_container, is_defined);
	OFF(struct lxc_container, state);
	OFF(struct lxc_container, is_running);
	OFF(struct lxc_container, freeze);
	OFF(struct lxc_container, unfreeze);
	OFF(struct lxc_container, init_pid);
	OFF(struct lxc_container, load_config);
	OFF(struct lxc_container, start);
	OFF(struct lxc_container, startl);
	OFF(struct lxc_container, stop);
	OFF(struct lxc_container, want_daemonize);
	OFF(struct lxc_container, want_close_all_fds);
	OFF(struct lxc_container, config_file_name);
	OFF(struct lxc_container, wait);
	OFF(struct lxc_container, set_config_item);
	OFF(struct lxc_container, destroy);
	OFF(struct lxc_container, save_config);
	OFF(struct lxc_container, create);
	OFF(struct lxc_container, createl);
	OFF(struct lxc_container, rename);
	OFF(struct lxc_container, reboot);
	OFF(struct lxc_container, shutdown);
	OFF(struct lxc_container, clear_config);
	OFF(struct lxc_container, clear_config_item);
	OFF(struct lxc_container, get_config_item);
	OFF(struct lxc_container, get_running_config_item);
	OFF(struct lxc_container, get_keys);
	OFF(struct lxc_container, get_interfaces);
	OFF(struct lxc_container, get_ips);
	OFF(struct lxc_container, get_cgroup_item);
	OFF(struct lxc_container, set_cgroup_item);
	OFF(struct lxc_container, get_config_path);
	OFF(struct lxc_container, set_config_path);
	OFF(struct lxc_container, clone);
	OFF(struct lxc_container, console_getfd);
	OFF(struct lxc_container, console);
	OFF(struct lxc_container, attach);
	OFF(struct lxc_container, attach_run_wait);
	OFF(struct lxc_container, attach_run_waitl);
	OFF(struct lxc_container, snapshot);
	OFF(struct lxc_container, snapshot_list);
	OFF(struct lxc_container, snapshot_restore);
	OFF(struct lxc_container, snapshot_destroy);
	OFF(struct lxc_container, may_control);
	OFF(struct lxc_container, add_device_node);
	OFF(struct lxc_container, remove_device_node);
	OFF(struct lxc_container, attach_interface);
	OFF(struct lxc_container, detach_interface);
	OFF(struct lxc_container, checkpoint);
	OFF(struct lxc_container, restore);
	OFF(struct lxc_container, destroy_with_snapshots);
	OFF(struct lxc_container, snapshot_destroy_all);
	OFF(struct lxc_container, migrate);
	OFF(struct lxc_container, console_log);
	OFF(struct lxc_container, reboot2);
	OFF(struct lxc_container, mount);
	OFF(struct lxc_container, umount);
	OFF(struct lxc_container, seccomp_notify_fd);
	OFF(struct lxc_container, seccomp_notify_fd_active);
	OFF(struct lxc_container, init_pidfd);
	OFF(struct lxc_container, devpts_fd);
#if LXC_VERSION_MAJOR >= 6
	OFF(struct lxc_container, rcv_timeout);
	OFF(struct lxc_container, set_timeout);
#endif
	SIZE(lxc_attach_options_t);
	OFF(lxc_attach_options_t, attach_flags);
	OFF(lxc_attach_options_t, namespaces);
	OFF(lxc_attach_options_t, personality);
	OFF(lxc_attach_options_t, initial_cwd);
	OFF(lxc_attach_options_t, uid);
	OFF(lxc_attach_options_t, gid);
	OFF(lxc_attach_options_t, env_policy);
	OFF(lxc_attach_options_t, extra_env_vars);
	OFF(lxc_attach_options_t, extra_keep_env);
	OFF(lxc_attach_options_t, stdin_fd);
	OFF(lxc_attach_options_t, stdout_fd);
	OFF(lxc_attach_options_t, stderr_fd);
	OFF(lxc_attach_options_t, log_fd);
	OFF(lxc_attach_options_t, lsm_label);
	OFF(lxc_attach_options_t, groups);
	OFF(lxc_attach_options_t, groups.size);
	OFF(lxc_attach_options_t, groups.list);
	SIZE(lxc_groups_t);
	OFF(lxc_groups_t, size);
	OFF(lxc_groups_t, list);
	SIZE(lxc_attach_command_t);
	OFF(lxc_attach_command_t, program);
	OFF(lxc_attach_command_t, argv);
	SIZE(struct bdev_specs);
	OFF(struct bdev_specs, fstype);
	OFF(struct bdev_specs, fssize);
	OFF(struct bdev_specs, zfs);
	OFF(struct bdev_specs, zfs.zfsroot);
	OFF(struct bdev_specs, lvm);
	OFF(struct bdev_specs, lvm.vg);
	OFF(struct bdev_specs, lvm.lv);
	OFF(struct bdev_specs, lvm.thinpool);
	OFF(struct bdev_specs, dir);
	OFF(struct bdev_specs, rbd);
	OFF(struct bdev_specs, rbd.rbdname);
	OFF(struct bdev_specs, rbd.rbdpool);
	SIZE(struct migrate_opts);
	OFF(struct migrate_opts, directory);
	OFF(struct migrate_opts, verbose);
	OFF(struct migrate_opts, stop);
	OFF(struct migrate_opts, predump_dir);
	OFF(struct migrate_opts, pageserver_address);
	OFF(struct migrate_opts, pageserver_port);
	OFF(struct migrate_opts, preserves_inodes);
	OFF(struct migrate_opts, action_script);
	OFF(struct migrate_opts, disable_skip_in_flight);
	OFF(struct migrate_opts, ghost_limit);
	OFF(struct migrate_opts, features_to_check);
	SIZE(struct lxc_console_log);
	OFF(struct lxc_console_log, clear);
	OFF(struct lxc_console_log, read);
	OFF(struct lxc_console_log, read_max);
	OFF(struct lxc_console_log, data);
	SIZE(struct lxc_snapshot);
	OFF(struct lxc_snapshot, name);
	OFF(struct lxc_snapshot, comment_pathname);
	OFF(struct lxc_snapshot, timestamp);
	OFF(struct lxc_snapshot, lxcpath);
	OFF(struct lxc_snapshot, free);
	SIZE(struct lxc_log);
	OFF(struct lxc_log, name);
	OFF(struct lxc_log, lxcpath);
	OFF(struct lxc_log, file);
	OFF(struct lxc_log, level);
	OFF(struct lxc_log, prefix);
	OFF(struct lxc_log, quiet);
	SIZE(struct lxc_mount);
	OFF(struct lxc_mount, version);
	printf("define LXC_CLONE %d %d %d %d %d %d %d\n", LXC_CLONE_KEEPNAME, LXC_CLONE_KEEPMACADDR, LXC_CLONE_SNAPSHOT, LXC_CLONE_KEEPBDEVTYPE, LXC_CLONE_MAYBE_SNAPSHOT, LXC_CLONE_MAXFLAGS, LXC_CLONE_ALLOW_RUNNING);
	printf("define LXC_CREATE %d %d LXC_MOUNT_API_V1 %d\n", LXC_CREATE_QUIET, LXC_CREATE_MAXFLAGS, LXC_MOUNT_API_V1);
	printf("define MIGRATE %d %d %d %d FEATURE %llu %llu\n", MIGRATE_PRE_DUMP, MIGRATE_DUMP, MIGRATE_RESTORE, MIGRATE_FEATURE_CHECK, (unsigned long long)FEATURE_MEM_TRACK, (unsigned long long)FEATURE_LAZY_PAGES);
	printf("define LXC_ATTACH %#x %#x %#x %#x %#x %#x %#x %#x %#x %#x %#x %#x\n", LXC_ATTACH_MOVE_TO_CGROUP, LXC_ATTACH_DROP_CAPABILITIES, LXC_ATTACH_SET_PERSONALITY, LXC_ATTACH_LSM_EXEC, LXC_ATTACH_REMOUNT_PROC_SYS, LXC_ATTACH_LSM_NOW, LXC_ATTACH_NO_NEW_PRIVS, LXC_ATTACH_TERMINAL, LXC_ATTACH_LSM_LABEL, LXC_ATTACH_SETGROUPS, LXC_ATTACH_DEFAULT, LXC_ATTACH_LSM);
	printf("define LXC_ATTACH_ENV %d %d DETECT %ld\n", LXC_ATTACH_KEEP_ENV, LXC_ATTACH_CLEAR_ENV, (long)LXC_ATTACH_DETECT_PERSONALITY);
	{
		lxc_attach_options_t o = LXC_ATTACH_OPTIONS_DEFAULT;
		printf("default attach %d %d %ld %p %d %d %d %p %p %d %d %d %d %p %zu %p\n", o.attach_flags, o.namespaces, o.personality, (void *)o.initial_cwd, (int)o.uid, (int)o.gid, (int)o.env_policy, (void *)o.extra_env_vars, (void *)o.extra_keep_env, o.stdin_fd, o.stdout_fd, o.stderr_fd, o.log_fd, (void *)o.lsm_label, o.groups.size, (void *)o.groups.list);
	}
	return 0;
}
