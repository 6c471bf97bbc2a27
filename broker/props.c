/*
 * props.c - property tables, defaults and computed values (properties.md
 * 2-4), serialisation (calls-core.md 0.3).  Set/Reset live in
 * props_set.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "props.h"
#include "util.h"
#include "virt.h"

#define ALL	(VMC_BIT(VMC_ADMIN) | VMC_BIT(VMC_APP) | VMC_BIT(VMC_DISP) | \
		 VMC_BIT(VMC_STANDALONE) | VMC_BIT(VMC_TEMPLATE))
#define QVM	(VMC_BIT(VMC_APP) | VMC_BIT(VMC_DISP) | \
		 VMC_BIT(VMC_STANDALONE) | VMC_BIT(VMC_TEMPLATE))
#define APPDISP	(VMC_BIT(VMC_APP) | VMC_BIT(VMC_DISP))
#define DISP	VMC_BIT(VMC_DISP)

#define H_TPL	" TemplateBasedVMs use its template's value by default."

const struct propdef vm_props[VMP_COUNT] = {
	[VMP_auto_cleanup] = { "auto_cleanup", DISP, 2, PT_BOOL, 0,
	    "automatically remove this VM upon shutdown" },
	[VMP_autostart] = { "autostart", QVM, 2, PT_BOOL, 0,
	    "Setting this to True means that VM should be autostarted on "
	    "dom0 boot." },
	[VMP_backup_timestamp] = { "backup_timestamp", QVM, 2, PT_INT, 0,
	    "Time of last backup of the qube, in seconds since unix epoch" },
	[VMP_debug] = { "debug", QVM, 2, PT_BOOL, 0,
	    "Turns on debugging features." },
	[VMP_default_user] = { "default_user", QVM, 2, PT_STR, 0,
	    "Default user to start applications as." H_TPL },
	[VMP_dispid] = { "dispid", DISP, 2, PT_INT, PF_WRITE_ONCE,
	    "Internal, persistent identifier of particular DispVM." },
	[VMP_dns] = { "dns", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "DNS servers set up for this domain." },
	[VMP_gateway] = { "gateway", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "Gateway for other domains that use this domain as netvm." },
	[VMP_gateway6] = { "gateway6", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "Gateway (IPv6) for other domains that use this domain as netvm." },
	[VMP_icon] = { "icon", ALL, 2, PT_UNTYPED, PF_COMPUTED, "" },
	[VMP_include_in_backups] = { "include_in_backups", ALL, 2, PT_BOOL, 0,
	    "If this domain is to be included in default backup." },
	[VMP_installed_by_rpm] = { "installed_by_rpm", QVM, 2, PT_BOOL, 0,
	    "If this domain's image was installed from package tracked by "
	    "package manager." },
	[VMP_ip] = { "ip", QVM, 2, PT_IPV4, 0, "IP address of this domain." },
	[VMP_ip6] = { "ip6", QVM, 2, PT_IPV6, 0,
	    "IPv6 address of this domain." },
	[VMP_kernel] = { "kernel", QVM, 2, PT_STR, 0,
	    "Kernel used by this domain." H_TPL },
	[VMP_keyboard_layout] = { "keyboard_layout", ALL, 2, PT_STR, 0,
	    "Keyboard layout for this VM" },
	[VMP_klass] = { "klass", ALL, 2, PT_UNTYPED, PF_COMPUTED,
	    "Domain class name" },
	[VMP_label] = { "label", ALL, 2, PT_LABEL, 0,
	    "Colourful label assigned to VM. This is where the colour of the "
	    "padlock is set." },
	[VMP_mac] = { "mac", QVM, 2, PT_STR, 0,
	    "MAC address of the NIC emulated inside VM" },
	[VMP_maxmem] = { "maxmem", QVM, 2, PT_INT, 0,
	    "Maximum amount of memory available for this VM (for the purpose "
	    "of the memory balancer). Set to 0 to disable memory balancing for "
	    "this qube. TemplateBasedVMs use its template's value by default "
	    "(unless memory balancing not supported for this qube)." },
	[VMP_memory] = { "memory", QVM, 2, PT_INT, 0,
	    "Memory currently available for this VM." H_TPL },
	[VMP_name] = { "name", ALL, 2, PT_STR, PF_WRITE_ONCE,
	    "User-specified name of the domain." },
	[VMP_provides_network] = { "provides_network", QVM, 2, PT_BOOL, 0,
	    "If this domain can act as network provider (formerly known as "
	    "NetVM or ProxyVM)" },
	[VMP_qid] = { "qid", ALL, 2, PT_INT, PF_WRITE_ONCE,
	    "Internal, persistent identificator of particular domain. Note "
	    "this is different from Xen domid." },
	[VMP_qrexec_timeout] = { "qrexec_timeout", QVM, 2, PT_INT, 0,
	    "Time in seconds after which qrexec connection attempt is deemed "
	    "failed. Operating system inside VM should be able to boot in this "
	    "time." },
	[VMP_shutdown_timeout] = { "shutdown_timeout", QVM, 2, PT_INT, 0,
	    "Time in seconds for shutdown of the VM, after which VM may be "
	    "forcefully powered off. Operating system inside VM should be "
	    "able to fully shutdown in this time." },
	[VMP_start_time] = { "start_time", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "Tell when machine was started. :rtype: float or None" },
	[VMP_stubdom_mem] = { "stubdom_mem", QVM, 2, PT_INT, 0,
	    "Memory amount allocated for the stubdom" },
	[VMP_stubdom_xid] = { "stubdom_xid", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "" },
	[VMP_template_for_dispvms] = { "template_for_dispvms",
	    VMC_BIT(VMC_APP) | VMC_BIT(VMC_STANDALONE), 2, PT_BOOL, 0,
	    "Should this VM be allowed to start as Disposable VM" },
	[VMP_updateable] = { "updateable", ALL, 2, PT_BOOL, PF_COMPUTED,
	    "True if this machine may be updated on its own." },
	[VMP_uuid] = { "uuid", ALL, 2, PT_UUID, PF_WRITE_ONCE,
	    "UUID from libvirt." },
	[VMP_vcpus] = { "vcpus", QVM, 2, PT_INT, 0,
	    "Number of virtual CPUs for a qube." H_TPL },
	[VMP_virt_mode] = { "virt_mode", QVM, 2, PT_STR, 0,
	    "Virtualisation mode: full virtualisation (\"HVM\"), or "
	    "paravirtualisation (\"PV\"), or hybrid (\"PVH\")." H_TPL },
	[VMP_visible_gateway] = { "visible_gateway", QVM, 2, PT_UNTYPED,
	    PF_COMPUTED, "Default gateway of this domain as seen by the "
	    "domain." },
	[VMP_visible_gateway6] = { "visible_gateway6", QVM, 2, PT_UNTYPED,
	    PF_COMPUTED, "Default (IPv6) gateway of this domain as seen by the "
	    "domain." },
	[VMP_visible_ip] = { "visible_ip", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "IP address of this domain as seen by the domain." },
	[VMP_visible_ip6] = { "visible_ip6", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "IPv6 address of this domain as seen by the domain." },
	[VMP_visible_netmask] = { "visible_netmask", QVM, 2, PT_UNTYPED,
	    PF_COMPUTED, "Netmask as seen by the domain." },
	[VMP_xid] = { "xid", QVM, 2, PT_UNTYPED, PF_COMPUTED,
	    "Xen ID. Or not Xen, but ID." },
	[VMP_audiovm] = { "audiovm", QVM, 4, PT_VM, PF_ALLOW_NONE,
	    "VM used for Audio" },
	[VMP_default_dispvm] = { "default_dispvm", ALL, 4, PT_VM,
	    PF_ALLOW_NONE,
	    "Default VM to be used as Disposable VM for service calls." },
	[VMP_guivm] = { "guivm", QVM, 4, PT_VM, PF_ALLOW_NONE,
	    "VM used for Gui" },
	[VMP_kernelopts] = { "kernelopts", QVM, 4, PT_STR, 0,
	    "Kernel command line passed to domain." H_TPL },
	[VMP_management_dispvm] = { "management_dispvm", QVM, 4, PT_VM,
	    PF_ALLOW_NONE,
	    "Default DVM template for Disposable VM for managing this VM." },
	[VMP_netvm] = { "netvm", QVM, 4, PT_VM, PF_ALLOW_NONE,
	    "VM that provides network connection to this domain. When None, "
	    "machine is disconnected. When absent, domain uses default "
	    "NetVM." },
	[VMP_template] = { "template", APPDISP, 4, PT_VM, 0,
	    "Template, on which this AppVM is based." },
};

const struct propdef global_props[GP_COUNT] = {
	[GP_check_updates_vm] = { "check_updates_vm", 0, 3, PT_BOOL, 0,
	    "Check for updates inside qubes" },
	[GP_clockvm] = { "clockvm", 0, 3, PT_VM, PF_ALLOW_NONE,
	    "Which VM to use as NTP proxy for updating AdminVM" },
	[GP_default_audiovm] = { "default_audiovm", 0, 3, PT_VM,
	    PF_ALLOW_NONE, "Default AudioVM for VMs." },
	[GP_default_dispvm] = { "default_dispvm", 0, 3, PT_VM, PF_ALLOW_NONE,
	    "Default DispVM base for service calls" },
	[GP_default_guivm] = { "default_guivm", 0, 3, PT_VM, PF_ALLOW_NONE,
	    "Default GuiVM for VMs." },
	[GP_default_kernel] = { "default_kernel", 0, 3, PT_UNTYPED, 0,
	    "Which kernel to use when not overriden in VM" },
	[GP_default_netvm] = { "default_netvm", 0, 3, PT_VM, PF_ALLOW_NONE,
	    "Default NetVM for AppVMs. Initial state is None, which means that "
	    "AppVMs are not connected to the Internet." },
	[GP_default_pool] = { "default_pool", 0, 3, PT_UNTYPED, 0,
	    "Default storage pool" },
	[GP_default_pool_kernel] = { "default_pool_kernel", 0, 3, PT_UNTYPED,
	    0, "Default storage pool for kernel volumes" },
	[GP_default_pool_private] = { "default_pool_private", 0, 3,
	    PT_UNTYPED, 0, "Default storage pool for private volumes" },
	[GP_default_pool_root] = { "default_pool_root", 0, 3, PT_UNTYPED, 0,
	    "Default storage pool for root volumes" },
	[GP_default_pool_volatile] = { "default_pool_volatile", 0, 3,
	    PT_UNTYPED, 0, "Default storage pool for volatile volumes" },
	[GP_default_qrexec_timeout] = { "default_qrexec_timeout", 0, 3, PT_INT,
	    0, "Default time in seconds after which qrexec connection attempt "
	    "is deemed failed" },
	[GP_default_shutdown_timeout] = { "default_shutdown_timeout", 0, 3,
	    PT_INT, 0, "Default time in seconds for VM shutdown to complete" },
	[GP_default_template] = { "default_template", 0, 3, PT_VM,
	    PF_ALLOW_NONE | PF_TEMPLATEVM, "Default template for new AppVMs" },
	[GP_management_dispvm] = { "management_dispvm", 0, 3, PT_VM,
	    PF_ALLOW_NONE, "Default DispVM base for managing VMs" },
	[GP_stats_interval] = { "stats_interval", 0, 3, PT_INT, 0,
	    "Interval in seconds for VM stats reporting (memory, CPU usage)" },
	[GP_updatevm] = { "updatevm", 0, 3, PT_VM, PF_ALLOW_NONE,
	    "Which VM to use as yum proxy for updating AdminVM and "
	    "TemplateVMs" },
};

/* The icon help of every class but AppVM is docutils output of the
 * reference system, error report included (properties.md 3.1). */
static const char icon_help[] =
    "freedesktop icon name, suitable for use in "
    ":py:meth:`PyQt4.QtGui.QIcon.fromTheme`\n\n"
    "<string>:1: (INFO/1) No role entry for \"py:meth\" in module "
    "\"docutils.parsers.rst.languages.en\".\n"
    "Trying \"py:meth\" as canonical role name.\n\n"
    "<string>:1: (ERROR/3) Unknown interpreted text role \"py:meth\".";

int
vmprop_id(const char *name)
{
	int i;

	for (i = 0; i < VMP_COUNT; i++)
		if (strcmp(vm_props[i].name, name) == 0)
			return i;
	return -1;
}

int
gprop_id(const char *name)
{
	int i;

	for (i = 0; i < GP_COUNT; i++)
		if (strcmp(global_props[i].name, name) == 0)
			return i;
	return -1;
}

int
vmprop_applies(const struct vm *vm, int pid)
{
	return pid >= 0 && pid < VMP_COUNT &&
	    (vm_props[pid].classes & VMC_BIT(vm->cls)) != 0;
}

static const char *
api_type_of(const char *name, enum ptype t)
{
	switch (t) {
	case PT_VM:
		return "vm";
	case PT_INT:
		return "int";
	case PT_BOOL:
		return "bool";
	default:
		return strcmp(name, "label") == 0 ? "label" : "str";
	}
}

const char *
vmprop_api_type(const struct vm *vm, int pid)
{
	(void)vm;
	return api_type_of(vm_props[pid].name, vm_props[pid].type);
}

const char *
gprop_api_type(int pid)
{
	return api_type_of(global_props[pid].name, global_props[pid].type);
}

const char *
vmprop_help(const struct vm *vm, int pid)
{
	if (vm->cls == VMC_ADMIN &&
	    (pid == VMP_name || pid == VMP_qid || pid == VMP_uuid))
		return "";
	if (pid == VMP_icon)
		return vm->cls == VMC_APP ? "" : icon_help;
	if (pid == VMP_netvm && vm->cls == VMC_TEMPLATE)
		return "VM that provides network connection to this domain. "
		    "When None, machine is disconnected.";
	if (pid == VMP_template && vm->cls == VMC_DISP)
		return "AppVM, on which this DispVM is based.";
	return vm_props[pid].help;
}

int
vmprop_is_default(const struct vm *vm, int pid)
{
	return !vm->props[pid].set;
}

/* ---- feature lookups */

const char *
feature_check_with_template(const struct vm *vm, const char *f)
{
	const char *v;
	int guard = 0;

	while (vm != NULL && guard++ < 64) {
		if ((v = kvl_get(&vm->features, f)) != NULL)
			return v;
		if (!vmprop_applies(vm, VMP_template))
			return NULL;
		vm = vmprop_vm(vm, VMP_template);
	}
	return NULL;
}

const char *
feature_check_with_netvm(const struct vm *vm, const char *f)
{
	const char *v;
	int guard = 0;

	while (vm != NULL && guard++ < 64) {
		if ((v = kvl_get(&vm->features, f)) != NULL)
			return v;
		if (!vmprop_applies(vm, VMP_netvm))
			return NULL;
		vm = vmprop_vm(vm, VMP_netvm);
	}
	return NULL;
}

static int
truthy(const char *v)
{
	return v != NULL && *v != '\0';
}

/* ---- typed reads */

struct vm *
vmprop_vm(const struct vm *vm, int pid)
{
	char *v = NULL;
	struct vm *r = NULL;

	if (vmprop_get(vm, pid, &v) == VAL_SET)
		r = app_vm(app, v);
	free(v);
	return r;
}

int
vmprop_bool(const struct vm *vm, int pid)
{
	char *v = NULL;
	int r = 0;

	if (vmprop_get(vm, pid, &v) == VAL_SET)
		r = strcmp(v, "True") == 0;
	free(v);
	return r;
}

long long
vmprop_int(const struct vm *vm, int pid, long long dflt)
{
	char *v = NULL;
	long long r = dflt;

	if (vmprop_get(vm, pid, &v) == VAL_SET)
		r = strtoll(v, NULL, 10);
	free(v);
	return r;
}

struct vm *
gprop_vm(int pid)
{
	char *v = NULL;
	struct vm *r = NULL;

	if (gprop_get(pid, &v) == VAL_SET)
		r = app_vm(app, v);
	free(v);
	return r;
}

static int
val(char **out, const char *s)
{
	*out = xstrdup(s);
	return VAL_SET;
}

static int
valf(char **out, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int
valf(char **out, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb;

	sb_init(&sb, 0);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	*out = sb_steal(&sb);
	return VAL_SET;
}

static int
bool_val(char **out, int b)
{
	return val(out, b ? "True" : "False");
}

/* _default_with_template: the template's value, NODEF if there is none. */
static int
from_template(const struct vm *vm, int pid, char **out)
{
	struct vm *tpl;

	if (!vmprop_applies(vm, VMP_template))
		return VAL_NODEF;
	tpl = vmprop_vm(vm, VMP_template);
	if (tpl == NULL)
		return VAL_NODEF;
	return vmprop_get(tpl, pid, out);
}

static int
is_networked(const struct vm *vm)
{
	if (vmprop_bool(vm, VMP_provides_network))
		return 1;
	return vmprop_vm(vm, VMP_netvm) != NULL;
}

static void
vmid_to_ipv4(struct strbuf *sb, const char *prefix, long long id)
{
	if (id < 255)
		sb_addf(sb, "%s.%lld.%lld", prefix, id >> 8, id & 255);
	else
		sb_addf(sb, "%s.%lld.%lld", prefix, (id - 1) / 254,
		    (id - 1) % 254 + 1);
}

static int
default_ip(const struct vm *vm, char **out)
{
	struct strbuf sb;

	if (!is_networked(vm))
		return VAL_NONE;
	sb_init(&sb, 0);
	if (vm->cls == VMC_DISP)
		vmid_to_ipv4(&sb, "10.138", vmprop_int(vm, VMP_dispid, 0));
	else
		vmid_to_ipv4(&sb, "10.137", vm->qid);
	*out = sb_steal(&sb);
	return VAL_SET;
}

static int
default_ip6(const struct vm *vm, char **out)
{
	if (!is_networked(vm) ||
	    !truthy(feature_check_with_netvm(vm, "ipv6")))
		return VAL_NONE;
	if (vm->cls == VMC_DISP)
		return valf(out, "fd09:24ef:4179::a8a:%llx",
		    vmprop_int(vm, VMP_dispid, 0));
	return valf(out, "fd09:24ef:4179::a89:%x", (unsigned)vm->qid);
}

static int
default_icon(const struct vm *vm, char **out)
{
	const char *label = vm_label_name(vm);
	const char *kind;

	if (vm->cls == VMC_ADMIN)
		return val(out, "adminvm-black");
	if (vm->cls == VMC_TEMPLATE)
		kind = "templatevm";
	else if (vm->cls == VMC_APP &&
	    vmprop_bool(vm, VMP_template_for_dispvms))
		kind = "templatevm";
	else if (truthy(kvl_get(&vm->features, "servicevm")))
		kind = "servicevm";
	else if (vm->cls == VMC_DISP)
		kind = "dispvm";
	else if (vm->cls == VMC_STANDALONE)
		kind = "standalonevm";
	else
		kind = "appvm";
	if (label == NULL)
		return VAL_NODEF;
	return valf(out, "%s-%s", kind, label);
}

static int
memory_balancing_possible(const struct vm *vm)
{
	char *mode = NULL;
	int hvm, r = 1;
	size_t i;
	const struct vm *t;
	int has_supported = 0;

	if (vm_persistent_pci_count(vm) > 0)
		return 0;
	hvm = vmprop_get(vm, VMP_virt_mode, &mode) == VAL_SET &&
	    strcmp(mode, "hvm") == 0;
	free(mode);
	if (!hvm)
		return 1;
	if (!truthy(feature_check_with_template(vm, "qrexec")))
		return 0;
	/* any supported-service.* in the template chain? */
	for (t = vm; t != NULL && !has_supported;
	    t = vmprop_applies(t, VMP_template) ?
	    vmprop_vm(t, VMP_template) : NULL) {
		for (i = 0; i < t->features.n; i++)
			if (strncmp(t->features.v[i].key,
			    "supported-service.", 18) == 0)
				has_supported = 1;
	}
	if (has_supported && !truthy(feature_check_with_template(vm,
	    "supported-service.meminfo-writer")))
		r = 0;
	return r;
}

static int
default_maxmem(const struct vm *vm, char **out)
{
	const char *os;
	long long dflt, half;
	int r;

	if (!memory_balancing_possible(vm))
		return val(out, "0");
	os = kvl_get(&vm->features, "os");
	if (os != NULL && strcmp(os, "Linux") == 0)
		dflt = vmprop_int(vm, VMP_memory, 400) * 10;
	else
		dflt = 4000;
	half = (long long)(app->host_mem_kib / 1024 / 2);
	if (half < dflt)
		dflt = half;
	r = from_template(vm, VMP_maxmem, out);
	if (r != VAL_NODEF)
		return r;
	return valf(out, "%lld", dflt);
}

/* Content of <dir>/<file>, whitespace-stripped; NULL if unreadable. */
static char *
read_stripped(const char *dir, const char *file)
{
	char path[4096], buf[1024];
	FILE *f;
	size_t n;
	char *s, *e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return NULL;
	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (s = buf; *s == ' ' || (*s >= '\t' && *s <= '\r'); s++)
		;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r')))
		*--e = '\0';
	return xstrdup(s);
}

static int
default_kernelopts(const struct vm *vm, char **out)
{
	char *kernel = NULL, *dir = NULL, *s;
	int r;

	if (vmprop_get(vm, VMP_kernel, &kernel) != VAL_SET ||
	    *kernel == '\0') {
		free(kernel);
		return val(out, "");
	}
	dir = kernel_dir(kernel);
	free(kernel);
	if (vm_persistent_pci_count(vm) > 0) {
		s = dir ? read_stripped(dir, "default-kernelopts-pci.txt") :
		    NULL;
		free(dir);
		if (s == NULL)
			s = xstrdup("");
		{
			struct vm *d0 = app_dom0(app);
			const char *f = d0 ? kvl_get(&d0->features,
			    "suspend-s0ix") : NULL;

			if (truthy(f)) {
				r = valf(out, "%s qubes_exp_pm_use_suspend=1",
				    s);
				free(s);
				return r;
			}
		}
		*out = s;
		return VAL_SET;
	}
	r = from_template(vm, VMP_kernelopts, out);
	if (r != VAL_NODEF) {
		free(dir);
		return r;
	}
	s = dir ? read_stripped(dir, "default-kernelopts-nopci.txt") : NULL;
	free(dir);
	if (s != NULL) {
		*out = s;
		return VAL_SET;
	}
	return val(out, "swiotlb=2048");
}

static int
gateway_of(const struct vm *vm, char **out)
{
	if (!vmprop_bool(vm, VMP_provides_network))
		return VAL_NONE;
	return vmprop_get(vm, VMP_visible_ip, out);
}

static int
gateway6_of(const struct vm *vm, char **out)
{
	if (!truthy(feature_check_with_netvm(vm, "ipv6")))
		return VAL_NONE;
	if (!vmprop_bool(vm, VMP_provides_network))
		return VAL_NONE;
	return vmprop_get(vm, VMP_visible_ip6, out);
}

int
vmprop_default(const struct vm *vm, int pid, char **out)
{
	const char *f;
	struct vm *nv;
	int r;

	*out = NULL;
	if (vm->cls == VMC_ADMIN) {
		switch (pid) {
		case VMP_name:
			return val(out, "dom0");
		case VMP_qid:
			return val(out, "0");
		case VMP_uuid:
			return val(out, "00000000-0000-0000-0000-000000000000");
		case VMP_keyboard_layout:
			return val(out, "us++");
		default:
			break;
		}
	}
	switch (pid) {
	case VMP_auto_cleanup:
	case VMP_autostart:
	case VMP_debug:
	case VMP_installed_by_rpm:
	case VMP_provides_network:
	case VMP_template_for_dispvms:
		return val(out, "False");
	case VMP_start_time:
		/* while running: when it started (Unix seconds) */
		if (vm->power != 0 && vm->start_time > 0)
			return valf(out, "%.2f", vm->start_time);
		return VAL_NONE;
	case VMP_backup_timestamp:
	case VMP_stubdom_mem:
		return VAL_NONE;
	case VMP_dispid:
	case VMP_label:
	case VMP_name:
	case VMP_qid:
	case VMP_uuid:
	case VMP_template:
		return VAL_NODEF;
	case VMP_default_user:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r : val(out, "user");
	case VMP_dns:
		if (vmprop_vm(vm, VMP_netvm) != NULL ||
		    vmprop_bool(vm, VMP_provides_network))
			return val(out, "10.139.1.1 10.139.1.2");
		return VAL_NONE;
	case VMP_gateway:
		return gateway_of(vm, out);
	case VMP_gateway6:
		return gateway6_of(vm, out);
	case VMP_icon:
		return default_icon(vm, out);
	case VMP_include_in_backups:
		if (vm->cls == VMC_DISP)
			return bool_val(out,
			    !vmprop_bool(vm, VMP_auto_cleanup));
		return val(out, "True");
	case VMP_ip:
		return default_ip(vm, out);
	case VMP_ip6:
		return default_ip6(vm, out);
	case VMP_kernel:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r : gprop_get(GP_default_kernel, out);
	case VMP_keyboard_layout:
		nv = vmprop_vm(vm, VMP_guivm);
		if (nv != NULL && vmprop_applies(nv, VMP_keyboard_layout))
			return vmprop_get(nv, VMP_keyboard_layout, out);
		return val(out, "us++");
	case VMP_klass:
		return val(out, vm_class_names[vm->cls]);
	case VMP_mac:
		return val(out, "00:16:3e:5e:6c:00");
	case VMP_maxmem:
		return default_maxmem(vm, out);
	case VMP_memory:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r : val(out, "400");
	case VMP_qrexec_timeout:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r :
		    gprop_get(GP_default_qrexec_timeout, out);
	case VMP_shutdown_timeout:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r :
		    gprop_get(GP_default_shutdown_timeout, out);
	case VMP_stubdom_xid:
		return valf(out, "%d", virt_stubdom_xid(vm));
	case VMP_updateable:
		return bool_val(out, vm->cls == VMC_TEMPLATE ||
		    vm->cls == VMC_STANDALONE || vm->cls == VMC_ADMIN);
	case VMP_vcpus:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r : val(out, "2");
	case VMP_virt_mode:
		if (vm_persistent_pci_count(vm) > 0)
			return val(out, "hvm");
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r : val(out, "pvh");
	case VMP_visible_gateway:
		f = feature_check_with_template(vm, "net.fake-gateway");
		if (truthy(f))
			return val(out, f);
		nv = vmprop_vm(vm, VMP_netvm);
		return nv ? vmprop_get(nv, VMP_gateway, out) : VAL_NONE;
	case VMP_visible_gateway6:
		if (!truthy(feature_check_with_netvm(vm, "ipv6")))
			return VAL_NONE;
		nv = vmprop_vm(vm, VMP_netvm);
		return nv ? vmprop_get(nv, VMP_gateway6, out) : VAL_NONE;
	case VMP_visible_ip:
		f = feature_check_with_template(vm, "net.fake-ip");
		if (truthy(f))
			return val(out, f);
		return vmprop_get(vm, VMP_ip, out);
	case VMP_visible_ip6:
		return vmprop_get(vm, VMP_ip6, out);
	case VMP_visible_netmask:
		f = feature_check_with_template(vm, "net.fake-netmask");
		if (truthy(f))
			return val(out, f);
		nv = vmprop_vm(vm, VMP_netvm);
		if (nv == NULL || !is_networked(nv))
			return VAL_NONE;
		return val(out, "255.255.255.255");
	case VMP_xid:
		return valf(out, "%d", virt_xid(vm));
	case VMP_audiovm:
		return gprop_get(GP_default_audiovm, out);
	case VMP_default_dispvm:
		if (vm->cls == VMC_DISP)
			return vmprop_get(vm, VMP_template, out);
		return gprop_get(GP_default_dispvm, out);
	case VMP_guivm:
		return gprop_get(GP_default_guivm, out);
	case VMP_kernelopts:
		return default_kernelopts(vm, out);
	case VMP_management_dispvm:
		r = from_template(vm, pid, out);
		return r != VAL_NODEF ? r :
		    gprop_get(GP_management_dispvm, out);
	case VMP_netvm:
		if (vm->cls == VMC_TEMPLATE)
			return VAL_NONE;
		return gprop_get(GP_default_netvm, out);
	default:
		return VAL_NODEF;
	}
}

int
vmprop_get(const struct vm *vm, int pid, char **out)
{
	const struct pval *p = &vm->props[pid];

	*out = NULL;
	if (vm->cls == VMC_ADMIN && (pid == VMP_name || pid == VMP_qid ||
	    pid == VMP_uuid))
		return vmprop_default(vm, pid, out);
	if (p->set && !(vm_props[pid].flags & PF_COMPUTED)) {
		if (vm_props[pid].type == PT_VM && p->value[0] == '\0')
			return VAL_NONE;
		*out = xstrdup(p->value);
		return VAL_SET;
	}
	return vmprop_default(vm, pid, out);
}

/* ---- global properties */

static int
default_pool(char **out)
{
	size_t i;
	const char *drv, *dir, *name;

	if (app_pool(app, "default") != NULL)
		return val(out, "default");
	/* LVM thin pool of "/" is not looked for: this broker manages file
	 * pools unless told otherwise; next rule is the base-dir file pool */
	for (i = 0; i < app->npools; i++) {
		drv = kvl_get(&app->pools[i], "driver");
		dir = kvl_get(&app->pools[i], "dir_path");
		name = kvl_get(&app->pools[i], "name");
		if (drv && dir && name && (strcmp(drv, "file") == 0 ||
		    strcmp(drv, "file-reflink") == 0) &&
		    same_dir(dir, app->base_dir))
			return val(out, name);
	}
	return VAL_NODEF;
}

int
gprop_default(int pid, char **out)
{
	*out = NULL;
	switch (pid) {
	case GP_check_updates_vm:
		return val(out, "True");
	case GP_clockvm:
	case GP_default_dispvm:
	case GP_default_netvm:
	case GP_management_dispvm:
	case GP_updatevm:
		return VAL_NONE;
	case GP_default_audiovm:
	case GP_default_guivm:
		return app_dom0(app) ? val(out, "dom0") : VAL_NONE;
	case GP_default_kernel:
	case GP_default_template:
		return VAL_NODEF;
	case GP_default_pool:
		return default_pool(out);
	case GP_default_pool_kernel:
	case GP_default_pool_private:
	case GP_default_pool_root:
	case GP_default_pool_volatile:
		return gprop_get(GP_default_pool, out);
	case GP_default_qrexec_timeout:
	case GP_default_shutdown_timeout:
		return val(out, "60");
	case GP_stats_interval:
		return val(out, "3");
	default:
		return VAL_NODEF;
	}
}

int
gprop_get(int pid, char **out)
{
	const struct pval *p = &app->gprops[pid];

	*out = NULL;
	if (p->set) {
		if (global_props[pid].type == PT_VM && p->value[0] == '\0')
			return VAL_NONE;
		*out = xstrdup(p->value);
		return VAL_SET;
	}
	return gprop_default(pid, out);
}

const char *
vm_label_name(const struct vm *vm)
{
	const struct pval *p = &vm->props[VMP_label];

	return p->set ? p->value : NULL;
}

/* ---- relations */

int
vm_connected_through(const struct vm *vm, const struct vm *target)
{
	int guard = 0;

	while (vm != NULL && guard++ < 256) {
		if (vm == target)
			return 1;
		if (!vmprop_applies(vm, VMP_netvm))
			return 0;
		vm = vmprop_vm(vm, VMP_netvm);
	}
	return 0;
}

int
vm_is_referenced(const struct vm *target)
{
	size_t i;
	int pid;
	const struct vm *vm;

	for (i = 0; i < app->nvms; i++) {
		vm = app->vms[i];
		if (vm == target)
			continue;
		for (pid = 0; pid < VMP_COUNT; pid++) {
			if (vm_props[pid].type != PT_VM ||
			    !vmprop_applies(vm, pid))
				continue;
			if (vmprop_vm(vm, pid) == target)
				return 1;
		}
	}
	for (pid = 0; pid < GP_COUNT; pid++)
		if (global_props[pid].type == PT_VM && gprop_vm(pid) == target)
			return 1;
	return 0;
}

/* ---- serialisation */

static int
serialize(struct strbuf *sb, int isdef, const char *type, int r,
    const char *v)
{
	if (r == VAL_NODEF)
		return sb_addf(sb, "default=True type=%s ", type);
	return sb_addf(sb, "default=%s type=%s %s", isdef ? "True" : "False",
	    type, r == VAL_SET ? v : "");
}

int
vmprop_serialize(const struct vm *vm, int pid, struct strbuf *sb)
{
	char *v = NULL;
	int r, isdef;

	r = vmprop_get(vm, pid, &v);
	isdef = vmprop_is_default(vm, pid) ||
	    (vm_props[pid].flags & PF_COMPUTED);
	if (vm->cls == VMC_ADMIN && (pid == VMP_name || pid == VMP_qid ||
	    pid == VMP_uuid))
		isdef = 1;
	serialize(sb, isdef, vmprop_api_type(vm, pid), r, v);
	free(v);
	return sb_ok(sb) ? 0 : -1;
}

int
gprop_serialize(int pid, struct strbuf *sb)
{
	char *v = NULL;
	int r;

	r = gprop_get(pid, &v);
	serialize(sb, !app->gprops[pid].set, gprop_api_type(pid), r, v);
	free(v);
	return sb_ok(sb) ? 0 : -1;
}

void
vm_debug_repr(const struct vm *vm, struct strbuf *sb)
{
	char *v;
	int pid, r;

	/* the address cannot be matched; any stable hex number will do */
	sb_addf(sb, "<%s at 0x%lx name=", vm_class_names[vm->cls],
	    0x7f0000000000UL + (unsigned long)vm->qid * 0x100UL);
	sb_add_pyrepr(sb, vm->name);
	sb_addf(sb, " qid=%d", vm->qid);
	for (pid = 0; pid < VMP_COUNT; pid++) {
		if (!vmprop_applies(vm, pid) || pid == VMP_name ||
		    pid == VMP_qid)
			continue;
		r = vmprop_get(vm, pid, &v);
		if (r == VAL_NODEF)
			continue;
		sb_addf(sb, " %s=%s", vm_props[pid].name,
		    r == VAL_SET ? v : "None");
		free(v);
	}
	sb_addc(sb, '>');
}
