/*
 * virt.c - libvirt access (calls-core.md 0.2 and 8; see virt.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "events.h"
#include "lifecycle.h"
#include "log.h"
#include "model.h"
#include "props.h"
#include "strbuf.h"
#include "util.h"
#include "virt.h"
#include "worker.h"

double virt_delay;

static virConnectPtr conn;
static char *conn_uri;
static pthread_t ev_thread;
static int ev_running, ev_cb_id = -1, ev_wake_id = -1;
static volatile int ev_stop;

static const char *const power_names[] = {
	[PW_HALTED] = "Halted",
	[PW_RUNNING] = "Running",
	[PW_PAUSED] = "Paused",
	[PW_SUSPENDED] = "Suspended",
	[PW_HALTING] = "Halting",
	[PW_DYING] = "Dying",
	[PW_CRASHED] = "Crashed",
};

static void
virt_silent_error(void *ud, virErrorPtr err)
{
	(void)ud;
	log_debug("libvirt: %s", err && err->message ? err->message : "?");
}

static void
slow_down(void)
{
	struct timespec ts;

	if (virt_delay <= 0)
		return;
	ts.tv_sec = (time_t)virt_delay;
	ts.tv_nsec = (long)((virt_delay - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
last_error(char *err, size_t errlen)
{
	virErrorPtr e = virGetLastError();

	snprintf(err, errlen, "%s", e && e->message ? e->message :
	    "unknown libvirt error");
}

static int
state_of(int st)
{
	switch (st) {
	case VIR_DOMAIN_PAUSED:
		return PW_PAUSED;
	case VIR_DOMAIN_CRASHED:
		return PW_CRASHED;
	case VIR_DOMAIN_SHUTDOWN:
		return PW_HALTING;
	case VIR_DOMAIN_SHUTOFF:
		return PW_DYING;
	case VIR_DOMAIN_PMSUSPENDED:
		return PW_SUSPENDED;
	default:
		return PW_RUNNING;
	}
}

/* Fill di from a domain object; di->exists = 0 if it is gone. */
static void
query_dom(virDomainPtr d, struct virt_dominfo *di)
{
	virDomainInfo info;
	int st = 0, reason = 0, active;

	memset(di, 0, sizeof(*di));
	di->xid = -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return;			/* gone (transient, stopped) */
	di->exists = 1;
	if (virDomainGetInfo(d, &info) == 0) {
		di->maxmem_kib = info.maxMem;
		di->nvcpus = info.nrVirtCpu;
		if (active) {
			di->mem_kib = info.memory;
			di->cputime_ns = info.cpuTime;
		}
	}
	if (!active) {
		di->state = PW_HALTED;
		return;
	}
	di->state = PW_RUNNING;
	if (virDomainGetState(d, &st, &reason, 0) == 0)
		di->state = state_of(st);
	di->xid = (int)virDomainGetID(d);
}

int
virt_query(const char *name, struct virt_dominfo *di)
{
	virDomainPtr d;
	virErrorPtr e;

	memset(di, 0, sizeof(*di));
	di->xid = -1;
	if (conn == NULL)
		return -1;
	d = virDomainLookupByName(conn, name);
	if (d == NULL) {
		e = virGetLastError();
		return e != NULL && e->code == VIR_ERR_NO_DOMAIN ? 0 : -1;
	}
	query_dom(d, di);
	virDomainFree(d);
	return 0;
}

int
virt_query_id0(struct virt_dominfo *di)
{
	virDomainPtr d;

	memset(di, 0, sizeof(*di));
	di->xid = -1;
	if (conn == NULL || (d = virDomainLookupByID(conn, 0)) == NULL)
		return -1;
	query_dom(d, di);
	virDomainFree(d);
	return 0;
}

void
virt_apply(struct vm *vm, const struct virt_dominfo *di)
{
	int was = vm->power;

	if (vm->cls == VMC_ADMIN)
		return;
	if (!di->exists || di->state == PW_HALTED) {
		if (was != PW_HALTED) {
			vm->power = PW_HALTED;
			vm->xid = -1;
			vm->maxmem_kib = 0;
			model_broadcast();
			vm_on_stopped(vm);	/* may free vm */
		}
		return;
	}
	if (was == PW_HALTED)
		vm->start_time = now_wall();
	vm->power = di->state;
	vm->xid = di->xid;
	vm->maxmem_kib = di->maxmem_kib;
	model_broadcast();
}

/* ---- lifecycle events (the event thread) */

static int
lifecycle_cb(virConnectPtr c, virDomainPtr d, int event, int detail,
    void *opaque)
{
	struct virt_dominfo di;
	const char *n = virDomainGetName(d);
	char name[64];
	struct vm *vm;

	(void)c;
	(void)detail;
	(void)opaque;
	if (n == NULL || strlen(n) >= sizeof(name))
		return 0;
	memcpy(name, n, strlen(n) + 1);
	/* ask before locking: libvirt may be slow, the loop must not be */
	query_dom(d, &di);
	model_lock();
	vm = app != NULL ? app_vm(app, name) : NULL;
	if (vm != NULL && vm->cls != VMC_ADMIN) {
		log_debug("libvirt event %d/%d on %s", event, detail, name);
		if (event == VIR_DOMAIN_EVENT_SUSPENDED)
			ev_fire(name, "domain-paused", NULL);
		else if (event == VIR_DOMAIN_EVENT_RESUMED)
			ev_fire(name, "domain-unpaused", NULL);
		virt_apply(vm, &di);
	}
	model_unlock();
	return 0;
}

static void
wake_cb(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static void *
event_main(void *arg)
{
	(void)arg;
	while (!ev_stop)
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

/* ---- connection */

int
virt_open(const char *uri)
{
	virDomainPtr *doms = NULL;
	struct virt_dominfo di;
	struct vm *vm;
	int i, n;

	virSetErrorFunc(NULL, virt_silent_error);
	if (virEventRegisterDefaultImpl() < 0)
		log_warnx("libvirt: no event loop");
	conn = virConnectOpen(uri);
	if (conn == NULL) {
		log_warnx("cannot connect to libvirt at %s; running offline",
		    uri);
		return -1;
	}
	conn_uri = xstrdup(uri);
	/* qubes already running (a broker restart) */
	n = virConnectListAllDomains(conn, &doms,
	    VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	for (i = 0; i < n; i++) {
		vm = app_vm(app, virDomainGetName(doms[i]));
		if (vm != NULL && vm->cls != VMC_ADMIN) {
			query_dom(doms[i], &di);
			virt_apply(vm, &di);
			log_info("%s is running (xid %d)", vm->name, vm->xid);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	ev_cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), NULL, NULL);
	if (ev_cb_id < 0)
		log_warnx("libvirt: no lifecycle events; power states are "
		    "read at each lifecycle call only");
	if (pthread_create(&ev_thread, NULL, event_main, NULL) == 0)
		ev_running = 1;
	return 0;
}

void
virt_close(void)
{
	if (ev_running) {
		ev_stop = 1;
		/* a timer that fires at once ends the thread's wait */
		ev_wake_id = virEventAddTimeout(0, wake_cb, NULL, NULL);
		pthread_join(ev_thread, NULL);
		if (ev_wake_id >= 0)
			virEventRemoveTimeout(ev_wake_id);
		ev_running = 0;
	}
	if (conn != NULL && ev_cb_id >= 0)
		virConnectDomainEventDeregisterAny(conn, ev_cb_id);
	if (conn != NULL)
		virConnectClose(conn);
	conn = NULL;
	free(conn_uri);
	conn_uri = NULL;
}

int
virt_online(void)
{
	return conn != NULL;
}

const char *
virt_uri(void)
{
	return conn_uri != NULL ? conn_uri : "";
}

/* ---- cached state */

const char *
virt_power_state(const struct vm *vm)
{
	struct strbuf p;
	struct stat st;
	const char *f;
	int transient;

	if (vm->cls == VMC_ADMIN)
		return "Running";
	if (vm->power != PW_RUNNING)
		return power_names[vm->power];
	/* Transient: the agent should answer but its qrexec socket is
	 * not there (yet) */
	f = feature_check_with_template(vm, "qrexec");
	if (f == NULL || *f == '\0')
		return "Running";
	if (vm->xid < 0)
		return "Transient";
	sb_init(&p, 0);
	sb_addf(&p, "%s/qubes/qrexec.%s", broker_run_dir(), vm->name);
	transient = !sb_ok(&p) || stat(p.buf, &st) != 0;
	sb_free(&p);
	return transient ? "Transient" : "Running";
}

int
virt_is_active(const struct vm *vm)
{
	return vm->cls == VMC_ADMIN || vm->power != PW_HALTED;
}

int
virt_xid(const struct vm *vm)
{
	if (vm->cls == VMC_ADMIN)
		return 0;
	return vm->power == PW_HALTED ? -1 : vm->xid;
}

int
virt_stubdom_xid(const struct vm *vm)
{
	(void)vm;
	return -1;	/* needs xenstore; never on a non-Xen host */
}

uint64_t
virt_host_mem_kib(void)
{
	virNodeInfo ni;

	if (conn == NULL || virNodeGetInfo(conn, &ni) < 0)
		return 0;
	return ni.memory;
}

/* ---- operations */

int
virt_create_paused(const char *xml, char *err, size_t errlen)
{
	virDomainPtr d;

	slow_down();
	if (conn == NULL) {
		snprintf(err, errlen, "no connection to libvirt");
		return -1;
	}
	d = virDomainCreateXML(conn, xml, VIR_DOMAIN_START_PAUSED);
	if (d == NULL && virGetLastErrorCode() == VIR_ERR_INVALID_ARG) {
		/* a driver without paused starts (test:///): start, then
		 * pause at once */
		d = virDomainCreateXML(conn, xml, 0);
		if (d != NULL && virDomainSuspend(d) < 0) {
			last_error(err, errlen);
			virDomainDestroy(d);
			virDomainFree(d);
			return -1;
		}
	}
	if (d == NULL) {
		last_error(err, errlen);
		return -1;
	}
	virDomainFree(d);
	return 0;
}

int
virt_do(const char *name, enum virt_op op, char *err, size_t errlen)
{
	virDomainPtr d;
	int rc = -1;

	slow_down();
	if (conn == NULL) {
		snprintf(err, errlen, "no connection to libvirt");
		return -1;
	}
	if ((d = virDomainLookupByName(conn, name)) == NULL) {
		last_error(err, errlen);
		return -1;
	}
	switch (op) {
	case VIRT_RESUME:
		rc = virDomainResume(d);
		break;
	case VIRT_SUSPEND:
		rc = virDomainSuspend(d);
		break;
	case VIRT_SHUTDOWN:
		rc = virDomainShutdown(d);
		break;
	case VIRT_DESTROY:
		rc = virDomainDestroy(d);
		break;
	}
	if (rc < 0)
		last_error(err, errlen);
	virDomainFree(d);
	return rc < 0 ? -1 : 0;
}

int
virt_all_stats(struct virt_stat **out, size_t *nout)
{
	virDomainPtr *doms = NULL;
	struct virt_dominfo di;
	struct virt_stat *v;
	const char *name;
	int i, n;
	size_t k = 0;

	*out = NULL;
	*nout = 0;
	if (conn == NULL)
		return -1;
	slow_down();
	n = virConnectListAllDomains(conn, &doms,
	    VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return -1;
	v = calloc((size_t)n + 1, sizeof(*v));
	if (v == NULL) {
		for (i = 0; i < n; i++)
			virDomainFree(doms[i]);
		free(doms);
		return -1;
	}
	for (i = 0; i < n; i++) {
		name = virDomainGetName(doms[i]);
		query_dom(doms[i], &di);
		if (name != NULL && strlen(name) < sizeof(v[k].name) &&
		    di.exists && di.state != PW_HALTED) {
			memcpy(v[k].name, name, strlen(name) + 1);
			v[k].xid = di.xid;
			v[k].mem_kib = di.mem_kib;
			v[k].cputime_ns = di.cputime_ns;
			v[k].nvcpus = di.nvcpus;
			k++;
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	*out = v;
	*nout = k;
	return 0;
}
