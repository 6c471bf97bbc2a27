/*
 * api_vm_power.c - admin.vm.Start, Shutdown, Pause, Unpause, Kill and
 * CurrentState (calls-core.md 8), and what the reference does around a
 * start and a stop (qubes.vm.qubesvm, qubes.vm.dispvm).
 *
 * Every call that waits for libvirt is deferred to a worker (worker.h):
 * the handler checks what it can answer at once, the job does the rest
 * with the model lock dropped around each blocking step.  A start owns
 * its qube (vm->busy, the reference's startup_lock): a second Start, a
 * Shutdown, Pause or Unpause of that qube waits for it; Kill does not
 * (it must be able to end a start that hangs).  Jobs name their qubes
 * and look them up again after every blocking step.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_handlers.h"
#include "domxml.h"
#include "events.h"
#include "lifecycle.h"
#include "log.h"
#include "model.h"
#include "persist.h"
#include "props.h"
#include "storage.h"
#include "strbuf.h"
#include "util.h"
#include "virt.h"
#include "worker.h"

extern char **environ;

#define QUBESDB_DAEMON	"/usr/sbin/qubesdb-daemon"
#define QREXEC_DAEMON	"/usr/sbin/qrexec-daemon"

/* flags of admin.vm.Shutdown */
#define SD_FORCE	1
#define SD_WAIT		2

static int
not_found(struct reply *r, const char *name)
{
	reply_error(r, "QubesVMNotFoundError", "No such domain: ");
	sb_add_pyrepr(&r->msg, name);
	return API_ERROR;
}

static int
not_started(struct reply *r, const char *name)
{
	return reply_error(r, "QubesVMNotStartedError",
	    "Domain is powered off: '%s'", name);
}

static int
not_running(struct reply *r, const char *name)
{
	return reply_error(r, "QubesVMNotRunningError",
	    "Domain not running (either powered off or paused): '%s'", name);
}

/* Look a qube up again after the lock was dropped. */
static struct vm *
again(const char *name)
{
	return app_vm(app, name);
}

/* Wait until no start owns the qube; NULL if it went. */
static struct vm *
wait_idle(const char *name)
{
	struct vm *vm;

	while ((vm = again(name)) != NULL && vm->busy &&
	    !model_stopping())
		model_wait(1.0);
	return vm;
}

/* A fresh look from libvirt, applied to the cache. */
static void
refresh(const char *name)
{
	struct virt_dominfo di;
	struct vm *vm;
	int rc;

	model_unlock();
	rc = virt_query(name, &di);
	model_lock();
	if (rc == 0 && (vm = again(name)) != NULL)
		virt_apply(vm, &di);
}

/* ---- stop */

static void
dispvm_cleanup(struct vm *vm)
{
	struct reply r;
	char *name = xstrdup(vm->name);

	log_info("%s: removing (auto_cleanup)", name);
	ev_fire(NULL, "domain-pre-delete", "vm", name, NULL);
	app_remove_vm(app, vm);
	ev_fire(NULL, "domain-delete", "vm", name, NULL);
	reply_init(&r);
	if (persist_commit(&r) == API_OK)
		storage_remove_vm(vm);
	else
		log_warnx("%s: not removed: %s", name,
		    r.msg.buf ? r.msg.buf : "save failed");
	reply_free(&r);
	vm_free(vm);
	free(name);
}

void
vm_on_stopped(struct vm *vm)
{
	log_info("%s: stopped", vm->name);
	ev_fire(vm->name, "domain-stopped", NULL);
	storage_stop_vm(vm);
	ev_fire(vm->name, "property-reset:xid", "name", "xid", NULL);
	ev_fire(vm->name, "property-reset:stubdom_xid", "name", "stubdom_xid",
	    NULL);
	ev_fire(vm->name, "property-reset:start_time", "name", "start_time",
	    NULL);
	ev_fire(vm->name, "domain-shutdown", NULL);
	if (vm->cls == VMC_DISP && vmprop_bool(vm, VMP_auto_cleanup)) {
		if (vm->busy)
			vm->cleanup_pending = 1;
		else
			dispvm_cleanup(vm);
	}
}

/* End a start's ownership (a DispVM that stopped meanwhile goes). */
static void
release(struct vm *vm)
{
	vm->busy = 0;
	model_broadcast();
	if (vm->cleanup_pending && vm->power == PW_HALTED) {
		vm->cleanup_pending = 0;
		dispvm_cleanup(vm);
	}
}

/* ---- domain definition */

static int
vol_disk(struct vm *vm, size_t i, struct domxml_disk *d, char *path,
    size_t pathlen, struct reply *r)
{
	const struct kvlist *pool;
	const char *drv;
	struct vol v;
	struct vol_state st;

	vol_view(&vm->volumes[i], &v);
	if (v.pool == NULL || (pool = app_pool(app, v.pool)) == NULL ||
	    pool_driver(pool) == NULL || pool_driver(pool)->vol_state == NULL)
		return reply_error(r, "QubesException", "Volume %s of %s: "
		    "unknown pool", v.name ? v.name : "?", vm->name);
	memset(&st, 0, sizeof(st));
	pool_driver(pool)->vol_state(pool, vm, &v, &st);
	if (st.path[0] == '\0')
		return reply_error(r, "StoragePoolException", "Volume %s of "
		    "%s has no image", v.name ? v.name : "?", vm->name);
	if (access(st.path, F_OK) != 0)
		return reply_error(r, "StoragePoolException",
		    "Missing image file: %s", st.path);
	snprintf(path, pathlen, "%s", st.path);
	d->path = path;
	drv = pool_attr(pool, "driver");
	/* no device-mapper snapshot here: a snapshot of the file and
	 * lvm_thin drivers is its source, which must stay unchanged */
	d->readonly = !v.rw || (v.snap_on_start && drv != NULL &&
	    strcmp(drv, "file-reflink") != 0);
	d->is_block = strncmp(path, "/dev/", 5) == 0;
	return API_OK;
}

#define MAX_DISKS	8

static int
build_xml(struct vm *vm, char **xml, struct reply *r)
{
	static const char *const xen_t[MAX_DISKS] = { "xvda", "xvdb", "xvdc",
	    "xvdd", "xvde", "xvdf", "xvdg", "xvdh" };
	static const char *const vd_t[MAX_DISKS] = { "vda", "vdb", "vdc",
	    "vdd", "vde", "vdf", "vdg", "vdh" };
	struct domxml_in in;
	struct domxml_disk disks[MAX_DISKS];
	char paths[MAX_DISKS][4096];
	char *mode = NULL, *kernel = NULL, *kopts = NULL, *ip = NULL;
	char *mac = NULL, *kdir = NULL, *uuid = NULL;
	struct strbuf kpath, ipath, cmd, con;
	struct vm *nv;
	const char *err = NULL;
	long long mem, maxmem;
	size_t i, nd = 0;
	int kind = domxml_kind_for_uri(virt_uri()), rc = API_OK;

	memset(&in, 0, sizeof(in));
	memset(disks, 0, sizeof(disks));
	sb_init(&kpath, 0);
	sb_init(&ipath, 0);
	sb_init(&cmd, 0);
	sb_init(&con, 0);
	if (kind < 0) {
		rc = reply_error(r, "QubesException", "Start failed: "
		    "unsupported libvirt driver %s", virt_uri());
		goto out;
	}
	in.kind = (enum domxml_kind)kind;
	in.name = vm->name;
	if (vmprop_get(vm, VMP_uuid, &uuid) == VAL_SET)
		in.uuid = uuid;
	mem = vmprop_int(vm, VMP_memory, 400);
	maxmem = vmprop_int(vm, VMP_maxmem, 0);
	/* without a memory balancer (qmemman) a qube gets what it asks */
	if (kind != DOMXML_XEN || maxmem < mem)
		maxmem = mem;
	in.memory_mib = (unsigned long)mem;
	in.maxmem_mib = (unsigned long)maxmem;
	in.vcpus = (unsigned)vmprop_int(vm, VMP_vcpus, 2);
	vmprop_get(vm, VMP_virt_mode, &mode);
	in.virt_mode = mode != NULL ? mode : "pvh";
	vmprop_get(vm, VMP_kernel, &kernel);
	/* Xen pv/pvh without a kernel boot the qube's own through pvgrub2
	 * (the reference's template does the same) */
	if (kind == DOMXML_XEN && (kernel == NULL || *kernel == '\0') &&
	    strcmp(in.virt_mode, "hvm") != 0) {
		free(kernel);
		kernel = xstrdup(strcmp(in.virt_mode, "pv") == 0 ? "pvgrub2" :
		    "pvgrub2-pvh");
	}
	if (kernel != NULL && *kernel != '\0') {
		kdir = kernel_dir(kernel);
		sb_addf(&kpath, "%s/vmlinuz", kdir);
		sb_addf(&ipath, "%s/initramfs", kdir);
		in.kernel = kpath.buf;
		if (access(ipath.buf, F_OK) == 0)
			in.initramfs = ipath.buf;
		if (kind == DOMXML_QEMU)
			sb_adds(&cmd, "console=ttyS0 ");
		if (vmprop_get(vm, VMP_kernelopts, &kopts) == VAL_SET)
			sb_adds(&cmd, kopts);
		in.cmdline = cmd.buf;
		if (access(kpath.buf, F_OK) != 0) {
			rc = reply_error(r, "QubesException", "Kernel %s not "
			    "installed", kernel);
			goto out;
		}
	}
	for (i = 0; i < vm->nvolumes && nd < MAX_DISKS; i++) {
		const char *vn = kvl_get(&vm->volumes[i], "name");

		/* the kernel volume holds the modules of a Qubes kernel */
		if (vn != NULL && strcmp(vn, "kernel") == 0 &&
		    (kind != DOMXML_XEN || in.kernel == NULL))
			continue;
		if ((rc = vol_disk(vm, i, &disks[nd], paths[nd],
		    sizeof(paths[nd]), r)) != API_OK)
			goto out;
		disks[nd].target = kind == DOMXML_XEN ? xen_t[nd] : vd_t[nd];
		nd++;
	}
	in.disks = disks;
	in.ndisks = nd;
	if ((nv = vmprop_vm(vm, VMP_netvm)) != NULL) {
		in.netvm = nv->name;
		if (vmprop_get(vm, VMP_ip, &ip) == VAL_SET)
			in.ip = ip;
		if (vmprop_get(vm, VMP_mac, &mac) == VAL_SET)
			in.mac = mac;
	}
	/* KVM where it works; kvm_pvm (nested, for special guest kernels
	 * only) and QUBES_BROKER_NO_KVM mean TCG */
	in.kvm = access("/dev/kvm", R_OK | W_OK) == 0 &&
	    access("/sys/module/kvm_pvm", F_OK) != 0 &&
	    getenv("QUBES_BROKER_NO_KVM") == NULL;
	if (kind == DOMXML_QEMU) {
		sb_addf(&con, "%s/qubes", broker_run_dir());
		if (mkdir(con.buf, 0775) < 0 && errno != EEXIST)
			log_warn("mkdir %s", con.buf);
		sb_addf(&con, "/guest-%s.log", vm->name);
		in.console_log = con.buf;
	}
	if (domxml_build(&in, xml, &err) < 0)
		rc = reply_error(r, "QubesException", "Start failed: %s",
		    err ? err : "invalid domain definition");
out:
	free(mode);
	free(kernel);
	free(kopts);
	free(ip);
	free(mac);
	free(kdir);
	free(uuid);
	sb_free(&kpath);
	sb_free(&ipath);
	sb_free(&cmd);
	sb_free(&con);
	return rc;
}


/* ---- the Qubes daemons around a start (Xen hosts only) */

static int
have_prog(const char *path, const char *what)
{
	static int told_qdb, told_qrexec;
	int *told = strcmp(what, "qubesdb") == 0 ? &told_qdb : &told_qrexec;

	if (domxml_kind_for_uri(virt_uri()) == DOMXML_XEN &&
	    access(path, X_OK) == 0)
		return 1;
	if (!*told) {
		log_info("%s not started (no %s on this host or not Xen)", what,
		    path);
		*told = 1;
	}
	return 0;
}

/* Run a daemon's starter and wait for it (lock dropped); exit status. */
static int
run_daemon(char *const argv[], char *const envp[])
{
	pid_t pid;
	int st;

	model_unlock();
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, envp) != 0) {
		model_lock();
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	model_lock();
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
start_daemons(const char *name, struct reply *r)
{
	struct vm *vm = again(name);
	char xid[16], tmo[64], *user = NULL;
	const char *f;
	int rc, wait_agent;

	if (vm == NULL)
		return not_found(r, name);
	snprintf(xid, sizeof(xid), "%d", vm->xid);
	if (have_prog(QUBESDB_DAEMON, "qubesdb")) {
		char *argv[] = { (char *)QUBESDB_DAEMON, xid, (char *)name,
		    NULL };

		if (run_daemon(argv, environ) != 0)
			return reply_error(r, "QubesException",
			    "Cannot execute qubesdb-daemon");
		if ((vm = again(name)) == NULL)
			return not_found(r, name);
		ev_fire(name, "domain-qdb-create", NULL);
	}
	f = feature_check_with_template(vm, "qrexec");
	wait_agent = f != NULL && *f != '\0';
	if (!have_prog(QREXEC_DAEMON, "qrexec-daemon"))
		return API_OK;
	vmprop_get(vm, VMP_default_user, &user);
	if (wait_agent)
		snprintf(tmo, sizeof(tmo), "QREXEC_STARTUP_TIMEOUT=%lld",
		    vmprop_int(vm, VMP_qrexec_timeout, 60));
	else
		snprintf(tmo, sizeof(tmo), "QREXEC_STARTUP_NOWAIT=1");
	{
		char *argv[] = { (char *)QREXEC_DAEMON, (char *)"-q", xid,
		    (char *)name, user ? user : (char *)"user", NULL };
		char *envp[] = { tmo, (char *)"PATH=/usr/sbin:/usr/bin:/sbin:"
		    "/bin", NULL };
		long long t = vmprop_int(vm, VMP_qrexec_timeout, 60);

		rc = run_daemon(argv, envp);
		free(user);
		if (rc == 3)
			return reply_error(r, "QubesVMError", "Cannot connect "
			    "to qrexec agent for %lld seconds, see "
			    "/var/log/xen/console/guest-%s.log for details", t,
			    name);
		if (rc != 0)
			return reply_error(r, "QubesVMError",
			    "qrexec-daemon startup failed");
	}
	return API_OK;
}

/* ---- start */

static int start_locked(const char *name, struct reply *r, int depth);

static int
start_failed(const char *name, struct reply *r, int rc)
{
	char esc[1024];

	if (rc == API_ERROR) {
		snprintf(esc, sizeof(esc), "%s", r->msg.buf ? r->msg.buf : "");
		ev_fire(name, "domain-start-failed", "reason", esc, NULL);
	} else {
		ev_fire(name, "domain-start-failed", "reason", "", NULL);
	}
	log_warnx("%s: start failed: %s", name, r->msg.buf && r->msg.len ?
	    r->msg.buf : r->why ? r->why : "");
	return rc;
}

/* Start the netvm first, if it is not running (owning it meanwhile). */
static int
start_netvm(const char *name, struct reply *r, int depth)
{
	struct vm *vm = again(name), *nv;
	char nname[64];
	int rc;

	if (vm == NULL)
		return not_found(r, name);
	nv = vmprop_vm(vm, VMP_netvm);
	if (nv == NULL || nv->cls == VMC_ADMIN || virt_is_active(nv))
		return API_OK;
	snprintf(nname, sizeof(nname), "%s", nv->name);
	if ((nv = wait_idle(nname)) == NULL)
		return not_found(r, nname);
	nv->busy = 1;
	rc = start_locked(nname, r, depth + 1);
	if ((nv = again(nname)) != NULL)
		release(nv);
	return rc;
}

/* The start sequence of calls-core.md 8 (the qube is owned). */
static int
start_locked(const char *name, struct reply *r, int depth)
{
	char err[1024], *xml = NULL, ts[64];
	struct vm *vm = again(name), *tpl;
	int rc;

	if (vm == NULL)
		return not_found(r, name);
	if (vm->power != PW_HALTED)
		return API_OK;
	if (depth > 16)
		return reply_error(r, "QubesException", "netvm chain too "
		    "long");
	if (vm->cls == VMC_DISP && ((tpl = vmprop_vm(vm, VMP_template)) ==
	    NULL || !vmprop_bool(tpl, VMP_template_for_dispvms))) {
		rc = reply_error(r, "QubesException", "template for DispVM "
		    "(%s) needs to have template_for_dispvms=True",
		    tpl ? tpl->name : "None");
		vm->cleanup_pending = vmprop_bool(vm, VMP_auto_cleanup);
		return rc;
	}
	log_info("%s: starting", name);
	ev_fire(name, "domain-pre-start", "start_guid", "True",
	    "mem_required", "None", NULL);
	if (strset_has(&vm->tags, "backup-restore-in-progress"))
		return start_failed(name, r, reply_error(r, "QubesVMError",
		    "Restore of this domain in progress, cannot start"));
	if ((rc = start_netvm(name, r, depth)) != API_OK)
		return start_failed(name, r, rc);
	if ((vm = again(name)) == NULL)
		return not_found(r, name);
	if ((rc = build_xml(vm, &xml, r)) != API_OK)
		return start_failed(name, r, rc);
	if ((rc = storage_start_vm(r, vm)) != API_OK) {
		free(xml);
		return start_failed(name, r, rc);
	}
	ev_fire(name, "domain-pre-spawn", "start_guid", "True", NULL);
	model_unlock();
	rc = virt_create_paused(xml, err, sizeof(err));
	free(xml);
	model_lock();
	if (rc < 0) {
		if ((vm = again(name)) != NULL)
			storage_stop_vm(vm);
		reply_error(r, "QubesException", "Start failed: %s, see "
		    "/var/log/libvirt/libxl/libxl-driver.log for details", err);
		ev_fire(name, "domain-start-failed", "reason", err, NULL);
		log_warnx("%s: start failed: %s", name, err);
		return API_ERROR;
	}
	refresh(name);
	if ((vm = again(name)) == NULL)
		return not_found(r, name);
	vm->start_time = now_wall();
	snprintf(ts, sizeof(ts), "%.2f", vm->start_time);
	ev_fire(name, "property-reset:xid", "name", "xid", NULL);
	ev_fire(name, "property-reset:stubdom_xid", "name", "stubdom_xid",
	    NULL);
	ev_fire(name, "property-reset:start_time", "name", "start_time",
	    NULL);
	ev_fire(name, "domain-spawn", "start_guid", "True", NULL);
	rc = start_daemons(name, r);
	if (rc == API_OK) {
		model_unlock();
		if (virt_do(name, VIRT_RESUME, err, sizeof(err)) < 0)
			rc = -1;
		model_lock();
		if (rc < 0)
			rc = reply_error(r, "QubesException", "Start failed: "
			    "%s", err);
	}
	if (rc != API_OK) {
		/* kill what was spawned; its stop is processed as any */
		model_unlock();
		virt_do(name, VIRT_DESTROY, err, sizeof(err));
		model_lock();
		refresh(name);
		return start_failed(name, r, rc);
	}
	refresh(name);
	ev_fire(name, "domain-start", "start_guid", "True", NULL);
	log_info("%s: started", name);
	return API_OK;
}

static int
job_start(struct job *j, struct reply *r)
{
	struct vm *vm;
	int rc;

	if ((vm = wait_idle(j->dest)) == NULL)
		return not_found(r, j->dest);
	if (model_stopping())
		return reply_refuse(r, "stopping");
	vm->busy = 1;
	rc = start_locked(j->dest, r, 0);
	if ((vm = again(j->dest)) != NULL) {
		/* a failed DispVM start removes it (auto_cleanup) */
		if (rc != API_OK && vm->cls == VMC_DISP &&
		    vmprop_bool(vm, VMP_auto_cleanup) &&
		    vm->power == PW_HALTED)
			vm->cleanup_pending = 1;
		release(vm);
	}
	return rc;
}

int
api_vm_start(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (c->dest->cls == VMC_ADMIN)
		return reply_error(r, "QubesVMNotHaltedError",
		    "Cannot start Dom0 fake domain!");
	return reply_defer(r, c, job_start, 0);
}

/* ---- shutdown */

/* Running qubes that use vm through property pid; "" if none. */
static void
users_running(const struct vm *vm, int pid, struct strbuf *out)
{
	size_t i;
	struct vm *o;

	for (i = 0; i < app->nvms; i++) {
		o = app->vms[i];
		if (o == vm || !vmprop_applies(o, pid) || !virt_is_active(o) ||
		    o->cls == VMC_ADMIN || vmprop_vm(o, pid) != vm)
			continue;
		if (out->len > 0)
			sb_adds(out, ", ");
		sb_adds(out, o->name);
	}
}

static int
shutdown_refused(struct vm *vm, struct reply *r)
{
	static const struct {
		int	 pid;
		const char *msg;
	} users[] = {
		{ VMP_netvm, "There are other VMs connected to this VM: " },
		{ VMP_guivm, "There are running VMs using this VM as GuiVM: " },
		{ VMP_audiovm, "There are running VMs using this VM as "
		    "AudioVM: " },
	};
	struct strbuf sb;
	size_t k;

	for (k = 0; k < sizeof(users) / sizeof(users[0]); k++) {
		sb_init(&sb, 0);
		users_running(vm, users[k].pid, &sb);
		if (sb.len > 0) {
			reply_error(r, "QubesVMError", "%s%s", users[k].msg,
			    sb.buf);
			sb_free(&sb);
			return API_ERROR;
		}
		sb_free(&sb);
	}
	return API_OK;
}

static int
shutdown_failed(const char *name, struct reply *r, int rc)
{
	ev_fire(name, "domain-shutdown-failed", "reason",
	    rc == API_ERROR && r->msg.buf ? r->msg.buf : "", NULL);
	return rc;
}

static int
job_shutdown(struct job *j, struct reply *r)
{
	char err[1024], fb[8];
	struct vm *vm;
	double deadline, left, next_look;
	int rc;

	if ((vm = wait_idle(j->dest)) == NULL)
		return not_found(r, j->dest);
	if (vm->power == PW_HALTED)
		return not_started(r, j->dest);
	snprintf(fb, sizeof(fb), "%s", j->flags & SD_FORCE ? "True" :
	    "False");
	ev_fire(j->dest, "domain-pre-shutdown", "force", fb, NULL);
	if (!(j->flags & SD_FORCE) && (rc = shutdown_refused(vm, r)) !=
	    API_OK)
		return shutdown_failed(j->dest, r, rc);
	deadline = now_mono() + (double)vmprop_int(vm, VMP_shutdown_timeout,
	    60);
	model_unlock();
	rc = virt_do(j->dest, VIRT_SHUTDOWN, err, sizeof(err));
	model_lock();
	if (rc < 0) {
		log_warnx("%s: shutdown: %s", j->dest, err);
		refresh(j->dest);
		if ((vm = again(j->dest)) == NULL || vm->power == PW_HALTED)
			return not_started(r, j->dest);
		reply_refuse(r, "libvirt refused the shutdown");
		return shutdown_failed(j->dest, r, API_REFUSE);
	}
	if (!(j->flags & SD_WAIT))
		return API_OK;
	/* the lifecycle event ends the wait; a look every second covers
	 * an event that never comes */
	next_look = now_mono() + 1;
	for (;;) {
		if ((vm = again(j->dest)) == NULL || vm->power == PW_HALTED)
			return API_OK;
		left = deadline - now_mono();
		if (left <= 0 || model_stopping())
			break;
		model_wait(left < 0.5 ? left : 0.5);
		if (now_mono() >= next_look) {
			refresh(j->dest);
			next_look = now_mono() + 1;
		}
	}
	reply_error(r, "QubesVMShutdownTimeoutError",
	    "Domain shutdown timed out: '%s'", j->dest);
	return shutdown_failed(j->dest, r, API_ERROR);
}

int
api_vm_shutdown(struct call *c, struct reply *r)
{
	const char *p = c->arg, *e;
	int flags = 0;
	size_t n;

	/* "" or '+'-joined force / wait, repeats allowed */
	while (*p) {
		e = strchr(p, '+');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 5 && strncmp(p, "force", 5) == 0)
			flags |= SD_FORCE;
		else if (n == 4 && strncmp(p, "wait", 4) == 0)
			flags |= SD_WAIT;
		else
			return reply_refuse(r, "bad shutdown option");
		if (e == NULL)
			break;
		p = e + 1;
		if (*p == '\0')
			return reply_refuse(r, "bad shutdown option");
	}
	if (c->dest->cls == VMC_ADMIN)
		return reply_refuse(r, "cannot shut dom0 down");
	if (c->dest->power == PW_HALTED && !c->dest->busy)
		return not_started(r, c->dest->name);
	return reply_defer(r, c, job_shutdown, flags);
}

/* ---- pause, unpause, kill */

static int
job_pause(struct job *j, struct reply *r)
{
	char err[1024];
	struct vm *vm;
	int rc;

	if ((vm = wait_idle(j->dest)) == NULL)
		return not_found(r, j->dest);
	if (!virt_is_active(vm))
		return not_running(r, j->dest);
	model_unlock();
	rc = virt_do(j->dest, VIRT_SUSPEND, err, sizeof(err));
	model_lock();
	refresh(j->dest);
	if (rc < 0) {
		log_warnx("%s: pause: %s", j->dest, err);
		return reply_refuse(r, "libvirt refused to pause");
	}
	return API_OK;
}

static int
job_unpause(struct job *j, struct reply *r)
{
	char err[1024];
	struct vm *vm;
	int rc;

	if ((vm = wait_idle(j->dest)) == NULL)
		return not_found(r, j->dest);
	if (vm->power != PW_PAUSED)
		return reply_error(r, "QubesVMNotPausedError",
		    "Domain is not paused: '%s'", j->dest);
	model_unlock();
	rc = virt_do(j->dest, VIRT_RESUME, err, sizeof(err));
	model_lock();
	refresh(j->dest);
	if (rc < 0) {
		log_warnx("%s: unpause: %s", j->dest, err);
		return reply_refuse(r, "libvirt refused to unpause");
	}
	return API_OK;
}

static int
job_kill(struct job *j, struct reply *r)
{
	char err[1024];
	struct vm *vm;
	int rc;

	if ((vm = again(j->dest)) == NULL)
		return not_found(r, j->dest);
	if (!virt_is_active(vm))
		return not_started(r, j->dest);
	model_unlock();
	rc = virt_do(j->dest, VIRT_DESTROY, err, sizeof(err));
	model_lock();
	/* returns once the stop is processed (domain-stopped,
	 * domain-shutdown fired) */
	refresh(j->dest);
	if (rc < 0) {
		if ((vm = again(j->dest)) == NULL || !virt_is_active(vm))
			return not_started(r, j->dest);
		log_warnx("%s: kill: %s", j->dest, err);
		return reply_refuse(r, "libvirt refused to destroy");
	}
	return API_OK;
}

int
api_vm_pause(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (c->dest->cls == VMC_ADMIN)
		return reply_refuse(r, "cannot pause dom0");
	return reply_defer(r, c, job_pause, 0);
}

int
api_vm_unpause(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (c->dest->cls == VMC_ADMIN)
		return reply_refuse(r, "cannot unpause dom0");
	return reply_defer(r, c, job_unpause, 0);
}

int
api_vm_kill(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	if (c->dest->cls == VMC_ADMIN)
		return reply_error(r, "QubesVMError",
		    "Cannot kill Dom0 fake domain!");
	if (!virt_is_active(c->dest) && !c->dest->busy)
		return not_started(r, c->dest->name);
	return reply_defer(r, c, job_kill, 0);
}

/* ---- CurrentState */

static void
meminfo_total(unsigned long long *v)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];

	*v = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemTotal: %llu kB", v) == 1)
			break;
	fclose(f);
}

static int
job_currentstate(struct job *j, struct reply *r)
{
	struct virt_dominfo di;
	unsigned long long mem = 0, maxmem = 0, cpu = 0;
	struct vm *vm = again(j->dest);
	int rc;

	if (vm == NULL)
		return not_found(r, j->dest);
	if (vm->cls == VMC_ADMIN) {
		meminfo_total(&mem);
		maxmem = app->host_mem_kib ? app->host_mem_kib / 1024 : 4096;
		model_unlock();
		rc = virt_query_id0(&di);
		model_lock();
		if (rc == 0)
			cpu = di.cputime_ns;
	} else if (vm->power != PW_HALTED) {
		model_unlock();
		rc = virt_query(j->dest, &di);
		model_lock();
		if ((vm = again(j->dest)) == NULL)
			return not_found(r, j->dest);
		if (rc == 0) {
			virt_apply(vm, &di);
			if ((vm = again(j->dest)) == NULL)
				return not_found(r, j->dest);
			if (di.exists) {
				mem = di.mem_kib;
				maxmem = di.maxmem_kib;
				cpu = di.cputime_ns;
			}
		}
	}
	sb_addf(&r->out, "mem=%llu mem_static_max=%llu cputime=%llu "
	    "power_state=%s", mem, maxmem, cpu, virt_power_state(vm));
	return API_OK;
}

int
api_vm_currentstate(struct call *c, struct reply *r)
{
	if (*c->arg)
		return reply_refuse(r, "argument must be empty");
	/* a halted qube has no libvirt domain: nothing to ask */
	if (c->dest->cls != VMC_ADMIN && c->dest->power == PW_HALTED) {
		sb_addf(&r->out, "mem=0 mem_static_max=0 cputime=0 "
		    "power_state=%s", virt_power_state(c->dest));
		return API_OK;
	}
	if (!virt_online() && c->dest->cls == VMC_ADMIN) {
		unsigned long long mem;

		meminfo_total(&mem);
		sb_addf(&r->out, "mem=%llu mem_static_max=4096 cputime=0 "
		    "power_state=Running", mem);
		return API_OK;
	}
	return reply_defer(r, c, job_currentstate, 0);
}
