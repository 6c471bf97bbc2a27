/*
 * virt.c - libvirt access (calls-core.md 0.2 and 8).
 */
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "log.h"
#include "model.h"
#include "virt.h"

static virConnectPtr conn;

static void
virt_silent_error(void *ud, virErrorPtr err)
{
	(void)ud;
	log_debug("libvirt: %s", err && err->message ? err->message : "?");
}

int
virt_open(const char *uri)
{
	virSetErrorFunc(NULL, virt_silent_error);
	conn = virConnectOpen(uri);
	if (conn == NULL) {
		log_warnx("cannot connect to libvirt at %s; running offline",
		    uri);
		return -1;
	}
	return 0;
}

void
virt_close(void)
{
	if (conn != NULL)
		virConnectClose(conn);
	conn = NULL;
}

static virDomainPtr
lookup(const struct vm *vm)
{
	if (conn == NULL || vm->cls == VMC_ADMIN)
		return NULL;
	return virDomainLookupByName(conn, vm->name);
}

const char *
virt_power_state(const struct vm *vm)
{
	virDomainPtr d;
	int state = 0, reason = 0, active;
	const char *r = "Halted";

	if (vm->cls == VMC_ADMIN)
		return "Running";
	d = lookup(vm);
	if (d == NULL)
		return "Halted";
	active = virDomainIsActive(d);
	if (active == 1 && virDomainGetState(d, &state, &reason, 0) == 0) {
		switch (state) {
		case VIR_DOMAIN_PAUSED:
			r = "Paused";
			break;
		case VIR_DOMAIN_CRASHED:
			r = "Crashed";
			break;
		case VIR_DOMAIN_SHUTDOWN:
			r = "Halting";
			break;
		case VIR_DOMAIN_SHUTOFF:
			r = "Dying";
			break;
		case VIR_DOMAIN_PMSUSPENDED:
			r = "Suspended";
			break;
		default:
			r = "Running";
			break;
		}
	}
	virDomainFree(d);
	return r;
}

int
virt_xid(const struct vm *vm)
{
	virDomainPtr d = lookup(vm);
	int xid = -1;

	if (d == NULL)
		return -1;
	if (virDomainIsActive(d) == 1)
		xid = (int)virDomainGetID(d);
	virDomainFree(d);
	return xid;
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

static unsigned long long
meminfo_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long v = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

void
virt_current_state(const struct vm *vm, unsigned long long *mem,
    unsigned long long *maxmem, unsigned long long *cputime)
{
	virDomainPtr d;
	virDomainInfo info;
	virNodeInfo ni;

	*mem = *maxmem = *cputime = 0;
	if (vm->cls == VMC_ADMIN) {
		*mem = meminfo_total();
		*maxmem = 4096;
		if (conn != NULL && virNodeGetInfo(conn, &ni) == 0)
			*maxmem = ni.memory / 1024;
		if (conn != NULL && (d = virDomainLookupByID(conn, 0))) {
			if (virDomainGetInfo(d, &info) == 0)
				*cputime = info.cpuTime;
			virDomainFree(d);
		}
		return;
	}
	d = lookup(vm);
	if (d == NULL)
		return;
	if (virDomainGetInfo(d, &info) == 0) {
		*maxmem = info.maxMem;
		if (virDomainIsActive(d) == 1) {
			*mem = info.memory;
			*cputime = info.cpuTime;
		}
	}
	virDomainFree(d);
}
