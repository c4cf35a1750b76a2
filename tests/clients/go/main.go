// Layer-3 "real client" test: Debian's go-lxc (gopkg.in/lxc/go-lxc.v2),
// built with cgo against whichever lxc.pc pkg-config finds and run against
// whichever liblxc.so.1 the dynamic loader finds.
//
// Usage: golxc-test PRIVATE_LXCPATH
//
// Environment:
//
//	LXC_GO_ORACLE=1   running against Debian's liblxc 5.0 (the oracle):
//	                  accept version 5.0.x, and treat the operations our
//	                  library has not built yet as "may succeed".
//
// Every check prints "ok:" or "FAIL:"; "note:" lines are observations
// (useful when diffing the oracle run against ours). Exit 1 on any failure.
package main

// #cgo pkg-config: lxc
// #include <stdlib.h>
// #include <lxc/lxccontainer.h>
// static const char *golxc_error_string(void *p) {
//	struct lxc_container *c = p;
//	return c && c->error_string ? c->error_string : "";
// }
// static int golxc_error_num(void *p) {
//	struct lxc_container *c = p;
//	return c ? c->error_num : 0;
// }
import "C"

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"
	"unsafe"

	lxc "gopkg.in/lxc/go-lxc.v2"
)

var (
	failures int
	oracle   = os.Getenv("LXC_GO_ORACLE") == "1"
)

func fail(format string, a ...interface{}) {
	failures++
	fmt.Printf("FAIL: "+format+"\n", a...)
}

func ok(format string, a ...interface{}) { fmt.Printf("ok:   "+format+"\n", a...) }

func note(format string, a ...interface{}) { fmt.Printf("note: "+format+"\n", a...) }

func check(cond bool, format string, a ...interface{}) bool {
	if cond {
		ok(format, a...)
	} else {
		fail(format, a...)
	}
	return cond
}

// cerr reads error_string/error_num of the struct lxc_container behind a
// go-lxc handle (go-lxc keeps the pointer in an unexported field).
func cerr(c *lxc.Container) string {
	v := reflect.ValueOf(c).Elem().FieldByName("container")
	if !v.IsValid() || v.IsNil() {
		return "(no handle)"
	}
	p := unsafe.Pointer(v.Pointer())
	return fmt.Sprintf("last error_num=%d error_string=%q",
		int(C.golxc_error_num(p)), C.GoString(C.golxc_error_string(p)))
}

// checkErr: err must be nil; on failure also print the handle's error_string.
func checkErr(c *lxc.Container, err error, what string) bool {
	if err != nil {
		fail("%s: %v [%s]", what, err, cerr(c))
		return false
	}
	ok("%s", what)
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isCgroupName: KIND.NAME or KIND.NAME-N (LXC appends -N when the
// directory already exists).
func isCgroupName(dir, kind, name string) bool {
	rest := strings.TrimPrefix(dir, kind+"."+name)
	if rest == dir {
		return false
	}
	if rest == "" {
		return true
	}
	if rest[0] != '-' || len(rest) == 1 {
		return false
	}
	for _, r := range rest[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// cgroupDirs finds directories named lxc.KIND.NAME[-N] under /sys/fs/cgroup
// (any hierarchy, v1 or v2, bounded depth).
func cgroupDirs(kind, name string) []string {
	var found []string
	root := "/sys/fs/cgroup"
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(p, root), "/") > 6 {
			return filepath.SkipDir
		}
		if isCgroupName(d.Name(), kind, name) {
			found = append(found, p)
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// waitNoCgroups waits up to 5s for the container's cgroups to be removed.
// A leftover lxc.payload cgroup is a failure; a leftover lxc.monitor cgroup
// too, except on the oracle (Debian's LXC 5.0 leaves them on cgroup v1).
func waitNoCgroups(name, when string) {
	var payload, monitor []string
	for i := 0; i < 50; i++ {
		payload, monitor = cgroupDirs("lxc.payload", name), cgroupDirs("lxc.monitor", name)
		if len(payload)+len(monitor) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	check(len(payload) == 0, "%s: no lxc.payload cgroup left for %s %v", when, name, payload)
	if oracle && len(monitor) > 0 {
		note("%s: lxc.monitor cgroups left for %s %v", when, name, monitor)
	} else {
		check(len(monitor) == 0, "%s: no lxc.monitor cgroup left for %s %v", when, name, monitor)
	}
}

// removeCgroups rmdirs (empty) leftover cgroups of NAME, after the checks;
// retries for a while since a monitor may still be exiting.
func removeCgroups(name string) {
	var errs []string
	for i := 0; i < 50; i++ {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if errs = removeCgroupsOnce(name); len(errs) == 0 {
			return
		}
	}
	note("cleanup: could not remove cgroups of %s: %v", name, errs)
}

func removeCgroupsOnce(name string) []string {
	var errs []string
	for _, kind := range []string{"lxc.payload", "lxc.monitor"} {
		for _, d := range cgroupDirs(kind, name) {
			// Children first: walk bottom-up.
			var dirs []string
			_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
				if err == nil && e.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			for i := len(dirs) - 1; i >= 0; i-- {
				if err := os.Remove(dirs[i]); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
	}
	return errs
}

// waitSigCaught waits (up to 10s) until process PID catches or blocks
// signal SIG (busybox init blocks them and uses sigtimedwait). Signals sent
// to a pid-namespace init before that are dropped by the kernel, so
// Shutdown/Reboot right after Start would race busybox init's start-up.
func waitSigCaught(pid int, sig uint, what string) {
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			break
		}
		for _, l := range strings.Split(string(b), "\n") {
			for _, k := range []string{"SigCgt:", "SigBlk:"} {
				if !strings.HasPrefix(l, k) {
					continue
				}
				var mask uint64
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, k)), "%x", &mask)
				if mask&(1<<(sig-1)) != 0 {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	note("%s: init (pid %d) does not catch signal %d yet", what, pid, sig)
}

func waitState(c *lxc.Container, s lxc.State, what string) bool {
	if !c.Wait(s, 10*time.Second) {
		fail("%s: Wait(%s, 10s) timed out, State()=%s [%s]", what, s, c.State(), cerr(c))
		return false
	}
	return check(c.State() == s, "%s: State()==%s (got %s)", what, s, c.State())
}

// attached runs args in c with opts and returns its exit status and what it
// wrote to stdout (stdin from `input` when not empty).
func attached(c *lxc.Container, opts lxc.AttachOptions, input string, args []string) (int, string) {
	r, w, err := os.Pipe()
	if err != nil {
		fail("pipe: %v", err)
		return -1, ""
	}
	defer r.Close()
	opts.StdoutFd = w.Fd()
	if input != "" {
		in, _ := os.CreateTemp("", "golxc-stdin")
		defer os.Remove(in.Name())
		defer in.Close()
		in.WriteString(input)
		in.Seek(0, 0)
		opts.StdinFd = in.Fd()
	}
	st := -1
	if args == nil {
		if err := c.AttachShell(opts); err != nil {
			fail("AttachShell(): %v [%s]", err, cerr(c))
		} else {
			st = 0
		}
	} else {
		st, err = c.RunCommandStatus(args, opts)
		if err != nil {
			fail("RunCommandStatus(%q): %v [%s]", args, err, cerr(c))
		}
	}
	w.Close()
	out, _ := io.ReadAll(r)
	return st, strings.TrimSpace(string(out))
}

// attachAndConsole checks go-lxc's attach and console entries on the
// running container c (lxc.console.buffer.size set).
func attachAndConsole(c *lxc.Container) {
	def := lxc.DefaultAttachOptions
	st, _ := attached(c, def, "", []string{"sh", "-c", "exit 5"})
	check(st == 5, "RunCommandStatus(exit 5)=%d", st)
	ran, err := c.RunCommand([]string{"true"}, def)
	check(ran && err == nil, "RunCommand(true)=%v, %v", ran, err)
	ran, _ = c.RunCommand([]string{"false"}, def)
	check(!ran, "RunCommand(false)=%v", ran)

	// Environment policy, cwd, ids and a subset of namespaces (not the
	// network one: the process keeps the host's).
	o := def
	o.ClearEnv = true
	o.Env = []string{"GOLXC=42"}
	o.Cwd = "/tmp"
	o.UID, o.GID = 1000, 1001
	o.Namespaces = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	st, out := attached(c, o, "", []string{"/bin/sh", "-c",
		`echo "$GOLXC|${KEEPME:-unset}|$(pwd)|$(id -u):$(id -g)|$(readlink /proc/self/ns/net)"`})
	want := "42|unset|/tmp|1000:1001|" + hostNet
	check(st == 0 && out == want, "attach with env/cwd/ids/namespaces: %d %q (want %q)", st, out, want)
	o = def
	o.Namespaces = -1
	st, out = attached(c, o, "", []string{"readlink", "/proc/self/ns/net"})
	check(st == 0 && out != hostNet && strings.HasPrefix(out, "net:"), "all namespaces: net ns %q", out)

	// AttachShell, fed a script on stdin.
	st, out = attached(c, def, "echo shell-$((6*7)); exit 0\n", nil)
	check(st == 0 && out == "shell-42", "AttachShell with a script on stdin: %q", out)

	// A tty of the container, and the console ring buffer.
	if fd, err := c.ConsoleFd(-1); check(err == nil && fd >= 0, "ConsoleFd(-1)=%d, %v [%s]", fd, err, cerr(c)) {
		syscall.Close(fd)
	}
	// Something on the console first: an empty ring buffer reads as ENODATA.
	// The monitor copies console output into the buffer as it comes: wait.
	c.RunCommand([]string{"sh", "-c", "echo golxc-console >/dev/console"}, def)
	var log []byte
	for i := 0; i < 100; i++ {
		log, err = c.ConsoleLog(lxc.ConsoleLogOptions{ReadLog: true, ReadMax: 65536})
		if err == nil && strings.Contains(string(log), "golxc-console") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(err == nil && strings.Contains(string(log), "golxc-console"),
		"ConsoleLog(read)=%d bytes, %v [%s]", len(log), err, cerr(c))
	_, err = c.ConsoleLog(lxc.ConsoleLogOptions{ClearLog: true})
	check(err == nil, "ConsoleLog(clear): %v [%s]", err, cerr(c))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: golxc-test PRIVATE_LXCPATH")
		os.Exit(2)
	}
	run(os.Args[1])
	fmt.Printf("go-lxc test: %d failure(s)\n", failures)
	if failures > 0 {
		os.Exit(1)
	}
}

// run does the checks; it returns early (after cleanup) when a step the rest
// depends on fails.
func run(lxcpath string) {
	if err := os.MkdirAll(lxcpath, 0o755); err != nil {
		fail("mkdir lxcpath: %v", err)
		return
	}
	// Watchdog: a hang is a failure, not a stuck test suite.
	time.AfterFunc(180*time.Second, func() {
		fmt.Println("FAIL: watchdog: test still running after 180s")
		os.Exit(1)
	})

	// Versions.
	v := lxc.Version()
	major, minor := lxc.VersionNumber()
	note("lxc.Version()=%q VersionNumber()=%d.%d oracle=%v", v, major, minor, oracle)
	if oracle {
		check(strings.HasPrefix(v, "5.0."), "Version() is 5.0.x (oracle): %q", v)
		check(lxc.VersionAtLeast(5, 0, 0), "VersionAtLeast(5,0,0)")
	} else {
		check(strings.HasPrefix(v, "6.0."), "Version() is 6.0.x: %q", v)
		check(lxc.VersionAtLeast(6, 0, 0), "VersionAtLeast(6,0,0)")
		check(major == 6 && minor == 0, "VersionNumber()==6.0 (got %d.%d)", major, minor)
	}
	check(!lxc.VersionAtLeast(99, 0, 0), "!VersionAtLeast(99,0,0)")
	check(lxc.IsSupportedConfigItem("lxc.uts.name"), "IsSupportedConfigItem(lxc.uts.name)")
	check(lxc.IsSupportedConfigItem("lxc.rootfs.path"), "IsSupportedConfigItem(lxc.rootfs.path)")
	// LXC matches the key table exactly: indexed network keys are not "supported".
	check(!lxc.IsSupportedConfigItem("lxc.net.0.type"), "!IsSupportedConfigItem(lxc.net.0.type) (exact-key table, as LXC)")
	check(!lxc.IsSupportedConfigItem("lxc.no.such.key"), "!IsSupportedConfigItem(lxc.no.such.key)")
	check(lxc.DefaultConfigPath() != "", "DefaultConfigPath() non-empty: %q", lxc.DefaultConfigPath())

	check(len(lxc.ContainerNames(lxcpath)) == 0, "ContainerNames(private) empty: %v", lxc.ContainerNames(lxcpath))

	name := fmt.Sprintf("golxc%d", os.Getpid())
	renamed := name + "r"

	c, err := lxc.NewContainer(name, lxcpath)
	if err != nil {
		fail("NewContainer(%q, %q): %v", name, lxcpath, err)
		return
	}
	// Whatever happens, leave nothing behind.
	defer func() {
		for _, n := range []string{name, renamed} {
			x, err := lxc.NewContainer(n, lxcpath)
			if err != nil {
				continue
			}
			if x.Running() {
				note("cleanup: stopping %s", n)
				_ = x.Stop()
			}
			if x.Defined() {
				note("cleanup: destroying %s", n)
				_ = x.Destroy()
			}
			lxc.Release(x)
			removeCgroups(n)
		}
	}()

	check(c.Name() == name, "Name()==%q", name)
	check(!c.Defined(), "!Defined() before Create")
	check(c.State() == lxc.STOPPED, "State()==STOPPED before Create (got %s)", c.State())
	check(c.ConfigPath() == lxcpath, "ConfigPath()==lxcpath (got %q)", c.ConfigPath())
	check(c.ConfigFileName() == filepath.Join(lxcpath, name, "config"),
		"ConfigFileName() (got %q)", c.ConfigFileName())

	// Network: "empty" (the busybox template runs udhcpc on eth0; no veth).
	checkErr(c, c.SetConfigItem("lxc.net.0.type", "empty"), "SetConfigItem(lxc.net.0.type, empty)")
	check(reflect.DeepEqual(c.ConfigItem("lxc.net.0.type"), []string{"empty"}),
		"ConfigItem(lxc.net.0.type)==[empty] before Create (got %q)", c.ConfigItem("lxc.net.0.type"))

	if !checkErr(c, c.Create(lxc.TemplateOptions{Template: "busybox"}), "Create(busybox)") {
		return
	}
	check(c.Defined(), "Defined() after Create")
	check(reflect.DeepEqual(c.ConfigItem("lxc.net.0.type"), []string{"empty"}),
		"ConfigItem(lxc.net.0.type)==[empty] after Create (got %q)", c.ConfigItem("lxc.net.0.type"))
	if cfg, err := os.ReadFile(c.ConfigFileName()); err != nil {
		fail("read config file: %v", err)
	} else {
		check(strings.Contains(string(cfg), "lxc.net.0.type = empty"),
			"saved config has lxc.net.0.type = empty")
	}
	note("lxc.rootfs.path=%q lxc.signal.halt=%q", c.ConfigItem("lxc.rootfs.path"), c.ConfigItem("lxc.signal.halt"))

	// Fresh handle sees the saved container.
	if c2, err := lxc.NewContainer(name, lxcpath); err == nil {
		check(c2.Defined(), "second handle: Defined()")
		check(reflect.DeepEqual(c2.ConfigItem("lxc.net.0.type"), []string{"empty"}),
			"second handle: ConfigItem(lxc.net.0.type)==[empty] (got %q)", c2.ConfigItem("lxc.net.0.type"))
		lxc.Release(c2)
	} else {
		fail("second NewContainer: %v", err)
	}

	// Listing while stopped.
	check(reflect.DeepEqual(lxc.ContainerNames(lxcpath), []string{name}),
		"ContainerNames==[%s] (got %v)", name, lxc.ContainerNames(lxcpath))
	check(reflect.DeepEqual(lxc.DefinedContainerNames(lxcpath), []string{name}),
		"DefinedContainerNames==[%s] (got %v)", name, lxc.DefinedContainerNames(lxcpath))
	check(len(lxc.ActiveContainerNames(lxcpath)) == 0,
		"ActiveContainerNames empty while stopped (got %v)", lxc.ActiveContainerNames(lxcpath))
	dc := lxc.DefinedContainers(lxcpath)
	check(len(dc) == 1 && dc[0].Name() == name, "DefinedContainers (len %d)", len(dc))
	for _, x := range dc {
		lxc.Release(x)
	}

	// Stop/Shutdown on a stopped container: go-lxc refuses (not running).
	check(c.Stop() != nil, "Stop() on stopped container returns an error")

	// A console ring buffer for ConsoleLog (unsaved: the in-memory config starts).
	checkErr(c, c.SetConfigItem("lxc.console.buffer.size", "128k"), "SetConfigItem(lxc.console.buffer.size)")

	// Start (daemonized).
	check(c.Daemonize(), "Daemonize() true by default")
	if !checkErr(c, c.Start(), "Start()") {
		return
	}
	waitState(c, lxc.RUNNING, "after Start")
	check(c.Running(), "Running()")
	pid := c.InitPid()
	check(pid > 1, "InitPid()>1 (got %d)", pid)
	if f, err := c.InitPidFd(); err != nil {
		fail("InitPidFd(): %v [%s]", err, cerr(c))
	} else {
		ok("InitPidFd() fd=%d", f.Fd())
		f.Close()
	}
	if pid > 1 {
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
			note("init comm=%q", strings.TrimSpace(string(comm)))
		}
		if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
			check(strings.Contains(string(cg), "lxc.payload."+name),
				"init's /proc/PID/cgroup names lxc.payload.%s", name)
		}
	}
	check(reflect.DeepEqual(lxc.ActiveContainerNames(lxcpath), []string{name}),
		"ActiveContainerNames==[%s] while running (got %v)", name, lxc.ActiveContainerNames(lxcpath))
	ac := lxc.ActiveContainers(lxcpath)
	check(len(ac) == 1 && ac[0].Name() == name && ac[0].Running(), "ActiveContainers (len %d)", len(ac))
	for _, x := range ac {
		lxc.Release(x)
	}
	check(c.Start() != nil, "second Start() while running returns an error")

	// Running config.
	rc := c.RunningConfigItem("lxc.net.0.type")
	check(reflect.DeepEqual(rc, []string{"empty"}), "RunningConfigItem(lxc.net.0.type)==[empty] (got %q)", rc)
	rc = c.RunningConfigItem("lxc.uts.name")
	note("RunningConfigItem(lxc.uts.name)=%q", rc)

	// Freeze / Unfreeze.
	if checkErr(c, c.Freeze(), "Freeze()") {
		check(c.State() == lxc.FROZEN, "State()==FROZEN (got %s)", c.State())
		check(c.Running(), "Running() while frozen")
	}
	if checkErr(c, c.Unfreeze(), "Unfreeze()") {
		check(c.State() == lxc.RUNNING, "State()==RUNNING after Unfreeze (got %s)", c.State())
	}

	// Network of an "empty" container: loopback only, and no address (LXC
	// brings lo up only for an interface with flags = up, none here).
	ifs, err := c.Interfaces()
	check(err == nil && reflect.DeepEqual(ifs, []string{"lo"}), "Interfaces()==[lo] (got %v, %v)", ifs, err)
	ips, err := c.IPAddresses()
	check(len(ips) == 0, "IPAddresses() empty (got %v, %v)", ips, err)
	lo, err := c.IPAddress("lo")
	check(len(lo) == 0, "IPAddress(lo) empty: lo is down (got %v, %v)", lo, err)
	// Operations our library does not implement yet: must fail cleanly
	// (never crash). The oracle may succeed; just report.
	note("CgroupItem(pids.current)=%q", c.CgroupItem("pids.current"))
	attachAndConsole(c)
	check(c.Running() && c.State() == lxc.RUNNING, "still RUNNING after unbuilt ops (got %s)", c.State())

	// Shutdown (busybox: lxc.signal.halt = SIGUSR1), fall back to Stop.
	waitSigCaught(c.InitPid(), 10, "before Shutdown")
	t0 := time.Now()
	if err := c.Shutdown(20 * time.Second); err != nil {
		fail("Shutdown(20s): %v after %v [%s]", err, time.Since(t0).Round(time.Millisecond), cerr(c))
		checkErr(c, c.Stop(), "Stop() after failed Shutdown")
	} else {
		ok("Shutdown(20s) in %v", time.Since(t0).Round(time.Millisecond))
	}
	waitState(c, lxc.STOPPED, "after Shutdown")
	check(!c.Running(), "!Running() after Shutdown")
	check(c.InitPid() == -1, "InitPid()==-1 after stop (got %d)", c.InitPid())
	waitNoCgroups(name, "after Shutdown")
	check(len(lxc.ActiveContainerNames(lxcpath)) == 0,
		"ActiveContainerNames empty after stop (got %v)", lxc.ActiveContainerNames(lxcpath))

	// Second life: Start, Reboot, Stop.
	if checkErr(c, c.Start(), "Start() again") {
		waitState(c, lxc.RUNNING, "after second Start")
		pid1 := c.InitPid()
		check(pid1 > 1 && pid1 != pid, "new InitPid (%d, first was %d)", pid1, pid)
		waitSigCaught(pid1, 15, "before Reboot") // busybox: lxc.signal.reboot = SIGTERM
		if checkErr(c, c.Reboot(), "Reboot()") {
			pid2 := pid1
			for i := 0; i < 100 && (pid2 == pid1 || pid2 <= 1); i++ {
				time.Sleep(100 * time.Millisecond)
				pid2 = c.InitPid()
			}
			check(pid2 > 1 && pid2 != pid1, "InitPid changed after Reboot (%d -> %d)", pid1, pid2)
			waitState(c, lxc.RUNNING, "after Reboot")
		}
		if c.Running() {
			checkErr(c, c.Stop(), "Stop()")
		} else {
			fail("not running before Stop() (after Reboot)")
		}
		waitState(c, lxc.STOPPED, "after Stop")
		check(!c.Running(), "!Running() after Stop")
		waitNoCgroups(name, "after Stop")
	}

	// Clone and snapshots (LXC's dir clone needs rsync, installed by .ci/run).
	cloneName := name + "c"
	if checkErr(c, c.Clone(cloneName, lxc.CloneOptions{ConfigPath: lxcpath}), "Clone()") {
		if cl, err := lxc.NewContainer(cloneName, lxcpath); err == nil {
			check(cl.Defined(), "clone Defined()")
			check(cl.ConfigItem("lxc.uts.name")[0] == cloneName, "clone lxc.uts.name = %q", cl.ConfigItem("lxc.uts.name"))
			checkErr(cl, cl.Destroy(), "Destroy() clone")
			lxc.Release(cl)
		}
	}
	// The other backends this machine has: an overlay snapshot clone and a
	// loop image (btrfs needs a btrfs lxcpath: tests-c/t_btrfs.c).
	for _, bk := range []struct {
		opts   lxc.CloneOptions
		prefix string
	}{
		{lxc.CloneOptions{ConfigPath: lxcpath, Backend: lxc.Overlayfs, Snapshot: true}, "overlay"},
		{lxc.CloneOptions{ConfigPath: lxcpath, Backend: lxc.Loopback}, "loop:"},
	} {
		bname := cloneName + bk.prefix[:4]
		if !checkErr(c, c.Clone(bname, bk.opts), fmt.Sprintf("Clone(%s, %v)", bname, bk.opts.Backend)) {
			continue
		}
		if cl, err := lxc.NewContainer(bname, lxcpath); err == nil {
			// The getter gives the path without its type; the file has both.
			conf, _ := os.ReadFile(cl.ConfigFileName())
			want := "lxc.rootfs.path = " + bk.prefix
			check(strings.Contains(string(conf), want), "%v clone config has %q", bk.opts.Backend, want)
			checkErr(cl, cl.Destroy(), fmt.Sprintf("Destroy() %v clone", bk.opts.Backend))
			lxc.Release(cl)
		}
	}
	if snap, err := c.CreateSnapshot(); check(err == nil, "CreateSnapshot(): %v [%s]", err, cerr(c)) {
		snaps, err := c.Snapshots()
		check(err == nil && len(snaps) == 1 && snaps[0].Name == snap.Name, "Snapshots()=%v, %v", snaps, err)
		restored := name + "r"
		if checkErr(c, c.RestoreSnapshot(*snap, restored), fmt.Sprintf("RestoreSnapshot(%s, %s)", snap.Name, restored)) {
			if r, err := lxc.NewContainer(restored, lxcpath); err == nil {
				check(r.Defined(), "restored Defined()")
				checkErr(r, r.Destroy(), "Destroy() restored")
				lxc.Release(r)
			}
		}
		checkErr(c, c.DestroySnapshot(*snap), fmt.Sprintf("DestroySnapshot(%s)", snap.Name))
		for k := 0; k < 2; k++ {
			_, err2 := c.CreateSnapshot()
			check(err2 == nil, "CreateSnapshot() #%d: %v", k, err2)
		}
		checkErr(c, c.DestroyAllSnapshots(), "DestroyAllSnapshots()")
		snaps, _ = c.Snapshots()
		check(len(snaps) == 0, "no snapshots left: %v", snaps)
	}
	check(reflect.DeepEqual(lxc.ContainerNames(lxcpath), []string{name}),
		"ContainerNames==[%s] after clone attempt (got %v)", name, lxc.ContainerNames(lxcpath))

	// Rename. Debian's LXC renames by clone (rsync for the dir backend) +
	// destroy, and leaves the handle on the old (now undefined) name; so, as
	// portable clients do, continue with a fresh handle on the new name.
	_, rsyncErr := exec.LookPath("rsync")
	final := name
	if err := c.Rename(renamed); err != nil && oracle && rsyncErr != nil {
		note("Rename(%q) failed on the oracle, which needs rsync (not installed): %v", renamed, err)
	} else if checkErr(c, err, fmt.Sprintf("Rename(%q)", renamed)) {
		final = renamed
		note("after Rename the old handle has Name()=%q Defined()=%v (LXC 5.0/6.0: old name, false)",
			c.Name(), c.Defined())
		_, err := os.Stat(filepath.Join(lxcpath, name))
		check(os.IsNotExist(err), "old directory gone after Rename (stat: %v)", err)
		if old, err := lxc.NewContainer(name, lxcpath); err == nil {
			check(!old.Defined(), "old name not Defined() after Rename (fresh handle)")
			lxc.Release(old)
		}
		check(reflect.DeepEqual(lxc.DefinedContainerNames(lxcpath), []string{renamed}),
			"DefinedContainerNames==[%s] after Rename (got %v)", renamed, lxc.DefinedContainerNames(lxcpath))
	}
	checkErr(c, c.Release(), "Release() first handle")

	c, err = lxc.NewContainer(final, lxcpath)
	if err != nil {
		fail("NewContainer(%q): %v", final, err)
		return
	}
	check(c.Defined(), "%s: Defined() (fresh handle)", final)
	check(c.ConfigFileName() == filepath.Join(lxcpath, final, "config"),
		"%s: ConfigFileName() (got %q)", final, c.ConfigFileName())
	check(reflect.DeepEqual(c.ConfigItem("lxc.net.0.type"), []string{"empty"}),
		"%s: ConfigItem(lxc.net.0.type)==[empty] (got %q)", final, c.ConfigItem("lxc.net.0.type"))
	rootfs := c.ConfigItem("lxc.rootfs.path")
	check(len(rootfs) == 1 && strings.HasSuffix(rootfs[0], "/"+final+"/rootfs"),
		"%s: lxc.rootfs.path follows the name (got %q)", final, rootfs)
	if final != name {
		uts := c.ConfigItem("lxc.uts.name")
		note("%s: lxc.uts.name=%q after Rename", final, uts)
		// The renamed container still starts.
		if checkErr(c, c.Start(), "Start() after Rename") {
			waitState(c, lxc.RUNNING, "renamed")
			checkErr(c, c.Stop(), "Stop() renamed")
			waitState(c, lxc.STOPPED, "renamed after Stop")
			waitNoCgroups(renamed, "renamed after Stop")
		}
	}

	// Destroy.
	if checkErr(c, c.Destroy(), "Destroy()") {
		check(!c.Defined(), "!Defined() after Destroy")
		_, err := os.Stat(filepath.Join(lxcpath, final))
		check(os.IsNotExist(err), "container directory removed (stat: %v)", err)
	}
	check(len(lxc.ContainerNames(lxcpath)) == 0, "ContainerNames empty at end (got %v)", lxc.ContainerNames(lxcpath))
	check(len(lxc.DefinedContainerNames(lxcpath)) == 0, "DefinedContainerNames empty at end")
	check(len(lxc.ActiveContainerNames(lxcpath)) == 0, "ActiveContainerNames empty at end")
	check(c.Destroy() != nil, "second Destroy() returns an error")
	checkErr(c, c.Release(), "Release()")
	waitNoCgroups(name, "at end")
	waitNoCgroups(renamed, "at end")

	runNetwork(lxcpath)
	runCheckpoint(lxcpath)
}

// sh runs a host command; its combined output on failure.
func sh(format string, a ...interface{}) error {
	cmd := fmt.Sprintf(format, a...)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", cmd, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func hostHasLink(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}

// runNetwork: a container with a veth on a bridge this test creates
// (static IPv4 and IPv6 on both ends; nothing leaves the machine), queried
// through go-lxc's network calls, plus a veth end of the test's moved in
// and back. Everything created is removed.
func runNetwork(lxcpath string) {
	pid := os.Getpid()
	name := fmt.Sprintf("golxc%dn", pid)
	bridge := fmt.Sprintf("gobr%d", pid%100000)
	dev := fmt.Sprintf("gov%d", pid%100000)  // host veth end moved in and back
	inner := fmt.Sprintf("gin%d", pid%10000) // its name inside
	n := 100 + pid%100
	v4, v6 := fmt.Sprintf("10.%d.6.2", n), fmt.Sprintf("fd00:%d:6::2", n)
	host4, host6 := fmt.Sprintf("10.%d.6.1", n), fmt.Sprintf("fd00:%d:6::1", n)

	if err := sh("ip link add %s type bridge && ip addr add %s/24 dev %s && ip -6 addr add %s/64 dev %s nodad && ip link set %s up",
		bridge, host4, bridge, host6, bridge, bridge); err != nil {
		fail("network: create bridge: %v", err)
		return
	}
	c, err := lxc.NewContainer(name, lxcpath)
	if err != nil {
		fail("network: NewContainer: %v", err)
		_ = sh("ip link del %s", bridge)
		return
	}
	defer func() {
		if c.Running() {
			_ = c.Stop()
		}
		if c.Defined() {
			checkErr(c, c.Destroy(), "network: Destroy()")
		}
		lxc.Release(c)
		for _, l := range []string{dev, inner, bridge} {
			if hostHasLink(l) {
				_ = sh("ip link del %s", l)
			}
		}
		check(!hostHasLink(bridge) && !hostHasLink(dev) && !hostHasLink(inner),
			"network: bridge and test veths removed")
		waitNoCgroups(name, "network: at end")
		removeCgroups(name)
	}()

	checkErr(c, c.SetConfigItem("lxc.net.0.type", "empty"), "network: lxc.net.0.type = empty before Create")
	if !checkErr(c, c.Create(lxc.TemplateOptions{Template: "busybox"}), "network: Create(busybox)") {
		return
	}
	checkErr(c, c.ClearConfigItem("lxc.net"), "network: ClearConfigItem(lxc.net)")
	for _, kv := range [][2]string{
		{"type", "veth"}, {"link", bridge}, {"name", "net0"}, {"flags", "up"},
		{"ipv4.address", v4 + "/24"}, {"ipv6.address", v6 + "/64"}, {"ipv4.gateway", host4},
	} {
		checkErr(c, c.SetConfigItem("lxc.net.0."+kv[0], kv[1]), "network: lxc.net.0."+kv[0]+" = "+kv[1])
	}
	if !checkErr(c, c.Start(), "network: Start()") {
		return
	}
	waitState(c, lxc.RUNNING, "network: after Start")

	// The host end of the veth is a port of our bridge.
	pair := ""
	if p := c.RunningConfigItem("lxc.net.0.veth.pair"); len(p) == 1 {
		pair = p[0]
	}
	master, _ := filepath.EvalSymlinks("/sys/class/net/" + pair + "/master")
	check(pair != "" && filepath.Base(master) == bridge, "network: host end %q is a port of %s", pair, bridge)
	ifs, err := c.Interfaces()
	check(err == nil && len(ifs) == 2 && contains(ifs, "lo") && contains(ifs, "net0"),
		"network: Interfaces()==[lo net0] (got %v, %v)", ifs, err)
	// Addresses are reported once set, before IPv6 duplicate address
	// detection ends; wait anyway, as clients do.
	all, err := c.WaitIPAddresses(10 * time.Second)
	check(err == nil && contains(all, v4), "network: WaitIPAddresses(10s) has %s (got %v, %v)", v4, all, err)
	got, err := c.IPAddress("net0")
	check(err == nil && len(got) == 2 && contains(got, v4) && contains(got, v6),
		"network: IPAddress(net0)==[%s %s] (got %v, %v)", v4, v6, got, err)
	got, err = c.IPv4Addresses()
	check(err == nil && reflect.DeepEqual(got, []string{v4}), "network: IPv4Addresses()==[%s] (got %v, %v)", v4, got, err)
	got, err = c.IPv6Addresses()
	check(err == nil && reflect.DeepEqual(got, []string{v6}), "network: IPv6Addresses()==[%s] (got %v, %v)", v6, got, err)
	got, err = c.IPv4Address("net0")
	check(err == nil && reflect.DeepEqual(got, []string{v4}), "network: IPv4Address(net0)==[%s] (got %v, %v)", v4, got, err)
	got, err = c.IPAddress("nosuchif0")
	check(len(got) == 0, "network: IPAddress(nosuchif0) empty (got %v, %v)", got, err)
	check(sh("busybox ping -c1 -W3 %s", v4) == nil, "network: host pings the container at %s", v4)

	// AttachInterface / DetachInterface: a veth end of ours moved in under
	// another name, back under its own name, in again, and back keeping
	// the inner name (DetachInterface without a new name).
	if err := sh("ip link add %s type veth peer name %sp", dev, dev); err != nil {
		fail("network: create veth: %v", err)
		return
	}
	inside := func() []string {
		l, _ := c.Interfaces()
		return l
	}
	if checkErr(c, c.AttachInterface(dev, inner), fmt.Sprintf("network: AttachInterface(%s, %s)", dev, inner)) {
		check(!hostHasLink(dev), "network: %s left the host", dev)
		check(contains(inside(), inner), "network: %s inside (got %v)", inner, inside())
		checkErr(c, c.DetachInterfaceRename(inner, dev), fmt.Sprintf("network: DetachInterfaceRename(%s, %s)", inner, dev))
		check(hostHasLink(dev) && !contains(inside(), inner), "network: %s back on the host (inside: %v)", dev, inside())
	}
	if checkErr(c, c.AttachInterface(dev, inner), "network: AttachInterface again") {
		checkErr(c, c.DetachInterface(inner), fmt.Sprintf("network: DetachInterface(%s)", inner))
		check(hostHasLink(inner) && !contains(inside(), inner),
			"network: %s on the host under its inner name (inside: %v)", inner, inside())
	}
	check(c.AttachInterface("nosuchdev0", "x0") != nil, "network: AttachInterface(nosuchdev0) fails")

	checkErr(c, c.Stop(), "network: Stop()")
	waitState(c, lxc.STOPPED, "network: after Stop")
	check(pair == "" || !hostHasLink(pair), "network: host end %s gone after Stop", pair)
}

// runCheckpoint: go-lxc's Checkpoint (with Stop) and Restore through CRIU on
// a running busybox container, then Stop. Only with a working `criu` on
// PATH (run.sh puts CRIU 4.2 first when the system's fails `criu check`);
// skipped on the oracle (Debian's CRIU 3.17 cannot run on this kernel).
func runCheckpoint(lxcpath string) {
	if oracle {
		note("checkpoint/restore: skipped on the oracle (Debian's criu 3.17 cannot run on this kernel)")
		return
	}
	criu, err := exec.LookPath("criu")
	if err != nil {
		note("checkpoint/restore: skipped: no criu on PATH")
		return
	}
	if out, err := exec.Command(criu, "check").CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		note("checkpoint/restore: skipped: `%s check` fails (%v): %s", criu, err, lines[len(lines)-1])
		return
	}
	version, _ := exec.Command(criu, "--version").Output()
	note("checkpoint/restore with %s (%s)", criu, strings.SplitN(strings.TrimSpace(string(version)), "\n", 2)[0])

	name := fmt.Sprintf("golxc%dk", os.Getpid())
	dir := filepath.Join(lxcpath, "checkpoint-"+name)
	c, err := lxc.NewContainer(name, lxcpath)
	if err != nil {
		fail("checkpoint: NewContainer: %v", err)
		return
	}
	defer func() {
		if c.Running() {
			_ = c.Stop()
		}
		if c.Defined() {
			checkErr(c, c.Destroy(), "checkpoint: Destroy()")
		}
		lxc.Release(c)
		_ = os.RemoveAll(dir)
		waitNoCgroups(name, "checkpoint: at end")
		removeCgroups(name)
	}()
	checkErr(c, c.SetConfigItem("lxc.net.0.type", "empty"), "checkpoint: lxc.net.0.type = empty before Create")
	if !checkErr(c, c.Create(lxc.TemplateOptions{Template: "busybox"}), "checkpoint: Create(busybox)") {
		return
	}
	if !checkErr(c, c.Start(), "checkpoint: Start()") || !waitState(c, lxc.RUNNING, "checkpoint: after Start") {
		return
	}
	time.Sleep(500 * time.Millisecond) // busybox init settles
	t0 := time.Now()
	if !checkErr(c, c.Checkpoint(lxc.CheckpointOptions{Directory: dir, Stop: true, Verbose: false}),
		"Checkpoint(Stop: true)") {
		return
	}
	note("Checkpoint took %v", time.Since(t0).Round(time.Millisecond))
	check(!c.Running() && c.State() == lxc.STOPPED, "STOPPED after Checkpoint(Stop: true) (got %s)", c.State())
	_, err = os.Stat(filepath.Join(dir, "inventory.img"))
	check(err == nil, "checkpoint images written (inventory.img: %v)", err)
	t0 = time.Now()
	if !checkErr(c, c.Restore(lxc.RestoreOptions{Directory: dir}), "Restore()") {
		return
	}
	note("Restore took %v", time.Since(t0).Round(time.Millisecond))
	check(c.Running() && c.State() == lxc.RUNNING, "RUNNING after Restore (got %s)", c.State())
	check(c.InitPid() > 1, "InitPid()>1 after Restore (got %d)", c.InitPid())
	status, out := attached(c, lxc.DefaultAttachOptions, "", []string{"hostname"})
	check(status == 0 && out == name, "attach after Restore: hostname %q (status %d)", out, status)
	checkErr(c, c.Stop(), "Stop() restored container")
	waitState(c, lxc.STOPPED, "checkpoint: after Stop")
	waitNoCgroups(name, "checkpoint: after Stop")
}
