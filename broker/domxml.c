/*
 * domxml.c - libvirt domain XML from plain values; see domxml.h.
 *
 * Two passes: domxml_check() rejects bad input before anything is
 * allocated, then the builders add nodes with xmlNewTextChild/xmlNewProp
 * (which escape on output; xmlNewChild would take its text as already
 * escaped, so it is not used).  A node that cannot be allocated sets
 * dx->oom and the calls below it become no-ops; the one check is at the
 * end, which keeps the builders a flat list of what goes in.
 *
 * The Xen shape follows qubesd 4.2 (templates/libvirt/xen.xml and
 * devices/net.xml, qubes.vm.qubesvm.QubesVM.kernel_path): a pv or pvh
 * domain always gets a kernel there (pvgrub2 when the qube boots its
 * own), so a Xen pv/pvh input without one is an error here rather than a
 * definition libxl refuses at start.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlstring.h>

#include "domxml.h"

#define DOMXML_PATH_MAX	4095

struct dx {
	xmlDocPtr	doc;
	int		oom;
};

/* libvirt URI schemes, indexed by enum domxml_kind */
static const char *const domxml_schemes[] = { "xen", "qemu", "test" };

int
domxml_kind_for_uri(const char *uri)
{
	size_t i, n;

	if (uri == NULL)
		return -1;
	for (i = 0; i < sizeof(domxml_schemes) / sizeof(domxml_schemes[0]);
	    i++) {
		n = strlen(domxml_schemes[i]);
		/* "xen:///", "xen+ssh://host/"; not "xenfoo:///" */
		if (strncmp(uri, domxml_schemes[i], n) == 0 &&
		    (uri[n] == ':' || uri[n] == '+'))
			return (int)i;
	}
	return -1;
}

/* ---- input checks */

static int
domxml_name_ok(const char *s)
{
	size_t i, len;

	if (s == NULL || (len = strlen(s)) == 0 || len > DOMXML_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int
domxml_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
domxml_uuid_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!domxml_hex(s[i]))
			return 0;
	}
	return 1;
}

/*
 * Text libvirt can read back: XML 1.0 cannot carry most control
 * characters at all (libxml2 would write &#1;, which no parser accepts)
 * and bytes that are not UTF-8 would make the document malformed.
 */
static int
domxml_text_ok(const char *s, size_t max)
{
	size_t i, len = strlen(s);

	if (len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return xmlCheckUTF8((const xmlChar *)s) != 0;
}

/* libvirt's absFilePath wants "/" and at least one more character */
static int
domxml_path_ok(const char *s)
{
	return s != NULL && s[0] == '/' && s[1] != '\0' &&
	    domxml_text_ok(s, DOMXML_PATH_MAX);
}

/* unicast only: libvirt's schema (uniMacAddr) refuses the others */
static int
domxml_mac_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 17)
		return 0;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return 0;
		} else if (!domxml_hex(s[i]))
			return 0;
	}
	return strchr("02468aAcCeE", s[1]) != NULL;
}

static int
domxml_ip_family(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return AF_INET6;
	return -1;
}

static const char *
domxml_check(const struct domxml_in *in)
{
	const char *prefix;
	size_t i, plen;
	unsigned long used = 0;
	char c;

	if (in->kind != DOMXML_XEN && in->kind != DOMXML_QEMU &&
	    in->kind != DOMXML_TEST)
		return "unknown domain kind";
	if (in->name == NULL || in->name[0] == '\0')
		return "empty name";
	if (!domxml_name_ok(in->name))
		return "invalid name";
	if (in->uuid != NULL && !domxml_uuid_ok(in->uuid))
		return "invalid uuid";
	if (in->memory_mib == 0)
		return "memory must be positive";
	/* KiB must fit libvirt's unsigned long long and ours */
	if (in->memory_mib > ~0UL / 1024 || in->maxmem_mib > ~0UL / 1024)
		return "memory too large";
	if (in->maxmem_mib != 0 && in->maxmem_mib < in->memory_mib)
		return "maxmem below memory";
	if (in->vcpus < 1 || in->vcpus > DOMXML_VCPUS_MAX)
		return "vcpus out of range";
	if (in->virt_mode == NULL || (strcmp(in->virt_mode, "pvh") != 0 &&
	    strcmp(in->virt_mode, "hvm") != 0 &&
	    strcmp(in->virt_mode, "pv") != 0))
		return "invalid virt_mode";
	if (in->kernel != NULL && !domxml_path_ok(in->kernel))
		return "invalid kernel path";
	if (in->initramfs != NULL && !domxml_path_ok(in->initramfs))
		return "invalid initramfs path";
	if (in->initramfs != NULL && in->kernel == NULL)
		return "initramfs without kernel";
	if (in->cmdline != NULL &&
	    !domxml_text_ok(in->cmdline, DOMXML_CMDLINE_MAX))
		return "invalid cmdline";
	if (in->cmdline != NULL && in->kernel == NULL)
		return "cmdline without kernel";
	if (in->kind == DOMXML_XEN && in->kernel == NULL &&
	    strcmp(in->virt_mode, "hvm") != 0)
		return "xen pv and pvh need a kernel";
	if (in->emulator != NULL && !domxml_path_ok(in->emulator))
		return "invalid emulator path";
	if (in->console_log != NULL && !domxml_path_ok(in->console_log))
		return "invalid console_log path";
	if (in->netvm != NULL && !domxml_name_ok(in->netvm))
		return "invalid netvm name";
	if (in->ip != NULL && domxml_ip_family(in->ip) < 0)
		return "invalid ip";
	if (in->mac != NULL && !domxml_mac_ok(in->mac))
		return "invalid mac";
	if (in->ndisks > 0 && in->disks == NULL)
		return "disks missing";
	if (in->ndisks > DOMXML_DISKS_MAX)
		return "too many disks";
	prefix = in->kind == DOMXML_XEN ? "xvd" : "vd";
	plen = strlen(prefix);
	for (i = 0; i < in->ndisks; i++) {
		const struct domxml_disk *d = &in->disks[i];

		if (!domxml_path_ok(d->path))
			return "invalid disk path";
		if (d->target == NULL || strlen(d->target) != plen + 1 ||
		    strncmp(d->target, prefix, plen) != 0 ||
		    (c = d->target[plen]) < 'a' || c > 'z')
			return "invalid disk target";
		if (used & (1UL << (c - 'a')))
			return "duplicate disk target";
		used |= 1UL << (c - 'a');
	}
	return NULL;
}

/* ---- tree helpers */

/*
 * libxml2 (2.9) returns a node even when copying its name or building
 * its text child failed: the result would serialise as "<>" or lose a
 * value without a word.  So a node counts only with both in place.
 */
static int
dx_filled(const xmlChar *name, const char *text, xmlNodePtr child)
{
	if (name == NULL)
		return 0;
	return text == NULL || (child != NULL && child->content != NULL);
}

static xmlNodePtr
dx_el(struct dx *dx, xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n;

	if (parent == NULL)		/* an allocation above failed */
		return NULL;
	n = xmlNewTextChild(parent, NULL, (const xmlChar *)name,
	    (const xmlChar *)text);
	if (n == NULL || !dx_filled(n->name, text, n->children))
		dx->oom = 1;
	return n;
}

static void
dx_attr(struct dx *dx, xmlNodePtr n, const char *name, const char *val)
{
	xmlAttrPtr a;

	if (n == NULL)
		return;
	a = xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)val);
	if (a == NULL || !dx_filled(a->name, val, a->children))
		dx->oom = 1;
}

/* <name attr='val'/>, the shape of most libvirt leaves */
static xmlNodePtr
dx_el1(struct dx *dx, xmlNodePtr parent, const char *name, const char *attr,
    const char *val)
{
	xmlNodePtr n = dx_el(dx, parent, name, NULL);

	dx_attr(dx, n, attr, val);
	return n;
}

static void
dx_num(struct dx *dx, xmlNodePtr parent, const char *name,
    unsigned long long v, const char *attr, const char *aval)
{
	char buf[32];
	xmlNodePtr n;

	snprintf(buf, sizeof(buf), "%llu", v);
	n = dx_el(dx, parent, name, buf);
	if (attr != NULL)
		dx_attr(dx, n, attr, aval);
}

/* ---- the parts */

static void
dx_basic(struct dx *dx, xmlNodePtr dom, const struct domxml_in *in)
{
	unsigned long max = in->maxmem_mib ? in->maxmem_mib : in->memory_mib;
	xmlNodePtr meta, n;
	xmlNsPtr ns;

	dx_el(dx, dom, "name", in->name);
	if (in->uuid != NULL)
		dx_el(dx, dom, "uuid", in->uuid);
	/* libvirt keeps foreign elements in <metadata> if namespaced */
	if (in->netvm != NULL) {
		meta = dx_el(dx, dom, "metadata", NULL);
		if ((n = dx_el(dx, meta, "netvm", in->netvm)) != NULL) {
			ns = xmlNewNs(n, (const xmlChar *)DOMXML_NS,
			    (const xmlChar *)DOMXML_NS_PREFIX);
			if (ns == NULL || ns->href == NULL ||
			    ns->prefix == NULL)
				dx->oom = 1;
			else
				xmlSetNs(n, ns);
		}
	}
	/* qubesd: <memory> is the balancer's ceiling, currentMemory the
	 * start value */
	dx_num(dx, dom, "memory", (unsigned long long)max * 1024, "unit",
	    "KiB");
	dx_num(dx, dom, "currentMemory",
	    (unsigned long long)in->memory_mib * 1024, "unit", "KiB");
	dx_num(dx, dom, "vcpu", in->vcpus, "placement", "static");
}

static void
dx_kernel(struct dx *dx, xmlNodePtr os, const struct domxml_in *in)
{
	if (in->kernel == NULL)
		return;
	dx_el(dx, os, "kernel", in->kernel);
	if (in->initramfs != NULL)
		dx_el(dx, os, "initrd", in->initramfs);
	if (in->cmdline != NULL)
		dx_el(dx, os, "cmdline", in->cmdline);
}

static void
dx_lifecycle(struct dx *dx, xmlNodePtr dom)
{
	/* a qube never restarts by itself: qubesd sees the stop and
	 * decides (and a reboot is a stop + start) */
	dx_el(dx, dom, "on_poweroff", "destroy");
	dx_el(dx, dom, "on_reboot", "destroy");
	dx_el(dx, dom, "on_crash", "destroy");
}

/* file or block disk for qemu and test */
static void
dx_vdisk(struct dx *dx, xmlNodePtr devs, const struct domxml_disk *d,
    int driver)
{
	xmlNodePtr disk, n;

	disk = dx_el1(dx, devs, "disk", "type", d->is_block ? "block" : "file");
	dx_attr(dx, disk, "device", "disk");
	if (driver) {
		n = dx_el1(dx, disk, "driver", "name", "qemu");
		dx_attr(dx, n, "type", "raw");
	}
	dx_el1(dx, disk, "source", d->is_block ? "dev" : "file", d->path);
	n = dx_el1(dx, disk, "target", "dev", d->target);
	dx_attr(dx, n, "bus", "virtio");
	if (d->readonly)
		dx_el(dx, disk, "readonly", NULL);
}

/* serial port 0 and the console on it: to a file, or a pty */
static void
dx_serial(struct dx *dx, xmlNodePtr devs, const char *log)
{
	const char *type = log != NULL ? "file" : "pty";
	xmlNodePtr n;

	n = dx_el1(dx, devs, "serial", "type", type);
	if (log != NULL)
		dx_el1(dx, n, "source", "path", log);
	dx_el1(dx, n, "target", "port", "0");
	n = dx_el1(dx, devs, "console", "type", type);
	if (log != NULL)
		dx_el1(dx, n, "source", "path", log);
	n = dx_el1(dx, n, "target", "type", "serial");
	dx_attr(dx, n, "port", "0");
}

static void
dx_xen(struct dx *dx, xmlNodePtr dom, const struct domxml_in *in)
{
	static const char *const machine[][3] = {
		/* virt_mode, machine, os type (xen.xml) */
		{ "hvm", "xenfv", "hvm" },
		{ "pvh", "xenpvh", "xenpvh" },
		{ "pv", "xenpv", "linux" },
	};
	xmlNodePtr os, n, cpu, feat, clock, devs, disk, nic;
	int hvm = strcmp(in->virt_mode, "hvm") == 0;
	int pv = strcmp(in->virt_mode, "pv") == 0;
	size_t i, m = 0;

	dx_attr(dx, dom, "type", "xen");
	dx_basic(dx, dom, in);
	for (i = 0; i < 3; i++)
		if (strcmp(in->virt_mode, machine[i][0]) == 0)
			m = i;
	if (!pv) {
		/* no nested virtualisation; the TSC is safe (no migration) */
		cpu = dx_el1(dx, dom, "cpu", "mode", "host-passthrough");
		n = dx_el1(dx, cpu, "feature", "name", "vmx");
		dx_attr(dx, n, "policy", "disable");
		n = dx_el1(dx, cpu, "feature", "name", "svm");
		dx_attr(dx, n, "policy", "disable");
		n = dx_el1(dx, cpu, "feature", "name", "invtsc");
		dx_attr(dx, n, "policy", "require");
	}
	os = dx_el(dx, dom, "os", NULL);
	n = dx_el(dx, os, "type", machine[m][2]);
	dx_attr(dx, n, "arch", "x86_64");
	dx_attr(dx, n, "machine", machine[m][1]);
	if (hvm && in->kernel == NULL) {
		dx_el1(dx, os, "boot", "dev", "cdrom");
		dx_el1(dx, os, "boot", "dev", "hd");
	}
	dx_kernel(dx, os, in);
	if (!pv) {
		feat = dx_el(dx, dom, "features", NULL);
		dx_el(dx, feat, "pae", NULL);
		dx_el(dx, feat, "acpi", NULL);
		dx_el(dx, feat, "apic", NULL);
		dx_el(dx, feat, "viridian", NULL);
	}
	if (hvm) {
		clock = dx_el1(dx, dom, "clock", "offset", "variable");
		dx_attr(dx, clock, "adjustment", "0");
		dx_attr(dx, clock, "basis", "utc");
	} else {
		clock = dx_el1(dx, dom, "clock", "offset", "utc");
		dx_attr(dx, clock, "adjustment", "reset");
		n = dx_el1(dx, clock, "timer", "name", "tsc");
		dx_attr(dx, n, "mode", "native");
	}
	dx_lifecycle(dx, dom);
	devs = dx_el(dx, dom, "devices", NULL);
	/* qubesd gives every volume as a phy block disk: its block script
	 * sets up a loop device for an image file */
	for (i = 0; i < in->ndisks; i++) {
		disk = dx_el1(dx, devs, "disk", "type", "block");
		dx_attr(dx, disk, "device", "disk");
		dx_el1(dx, disk, "driver", "name", "phy");
		dx_el1(dx, disk, "source", "dev", in->disks[i].path);
		dx_el1(dx, disk, "target", "dev", in->disks[i].target);
		if (in->disks[i].readonly)
			dx_el(dx, disk, "readonly", NULL);
	}
	if (in->netvm != NULL) {
		nic = dx_el1(dx, devs, "interface", "type", "ethernet");
		if (in->mac != NULL)
			dx_el1(dx, nic, "mac", "address", in->mac);
		if (in->ip != NULL) {
			n = dx_el1(dx, nic, "ip", "address", in->ip);
			if (domxml_ip_family(in->ip) == AF_INET6)
				dx_attr(dx, n, "family", "ipv6");
		}
		dx_el1(dx, nic, "backenddomain", "name", in->netvm);
		dx_el1(dx, nic, "script", "path", "vif-route-qubes");
	}
	n = dx_el1(dx, devs, "console", "type", "pty");
	n = dx_el1(dx, n, "target", "type", "xen");
	dx_attr(dx, n, "port", "0");
}

static void
dx_qemu(struct dx *dx, xmlNodePtr dom, const struct domxml_in *in)
{
	xmlNodePtr os, n, feat, devs;
	size_t i;

	dx_attr(dx, dom, "type", in->kvm ? "kvm" : "qemu");
	dx_basic(dx, dom, in);
	os = dx_el(dx, dom, "os", NULL);
	n = dx_el(dx, os, "type", "hvm");
	dx_attr(dx, n, "arch", "x86_64");
	dx_attr(dx, n, "machine", "pc");
	if (in->kernel == NULL)
		dx_el1(dx, os, "boot", "dev", "hd");
	dx_kernel(dx, os, in);
	/* ACPI: Shutdown is a press of the virtual power button */
	feat = dx_el(dx, dom, "features", NULL);
	dx_el(dx, feat, "acpi", NULL);
	dx_el(dx, feat, "apic", NULL);
	dx_el1(dx, dom, "clock", "offset", "utc");
	dx_lifecycle(dx, dom);
	devs = dx_el(dx, dom, "devices", NULL);
	if (in->emulator != NULL)
		dx_el(dx, devs, "emulator", in->emulator);
	for (i = 0; i < in->ndisks; i++)
		dx_vdisk(dx, devs, &in->disks[i], 1);
	dx_serial(dx, devs, in->console_log);
	/* no qmemman here: the guest keeps what it was given */
	dx_el1(dx, devs, "memballoon", "model", "none");
}

static void
dx_test(struct dx *dx, xmlNodePtr dom, const struct domxml_in *in)
{
	xmlNodePtr os, devs;
	size_t i;

	dx_attr(dx, dom, "type", "test");
	dx_basic(dx, dom, in);
	os = dx_el(dx, dom, "os", NULL);
	dx_el(dx, os, "type", "hvm");
	dx_kernel(dx, os, in);
	dx_lifecycle(dx, dom);
	devs = dx_el(dx, dom, "devices", NULL);
	for (i = 0; i < in->ndisks; i++)
		dx_vdisk(dx, devs, &in->disks[i], 0);
	if (in->console_log != NULL)
		dx_serial(dx, devs, in->console_log);
}

int
domxml_build(const struct domxml_in *in, char **out, const char **err)
{
	struct dx dx;
	xmlNodePtr dom;
	xmlChar *mem = NULL;
	const char *why;
	int len = 0;

	*out = NULL;
	if (in == NULL)
		why = "no input";
	else
		why = domxml_check(in);
	if (why != NULL)
		goto fail;
	why = "out of memory";
	memset(&dx, 0, sizeof(dx));
	if ((dx.doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		goto fail;
	if ((dom = xmlNewDocNode(dx.doc, NULL, (const xmlChar *)"domain",
	    NULL)) == NULL) {
		xmlFreeDoc(dx.doc);
		goto fail;
	}
	xmlDocSetRootElement(dx.doc, dom);
	if (!dx_filled(dom->name, NULL, NULL))
		dx.oom = 1;
	switch (in->kind) {
	case DOMXML_XEN:
		dx_xen(&dx, dom, in);
		break;
	case DOMXML_QEMU:
		dx_qemu(&dx, dom, in);
		break;
	case DOMXML_TEST:
		dx_test(&dx, dom, in);
		break;
	}
	if (!dx.oom)
		xmlDocDumpFormatMemory(dx.doc, &mem, &len, 1);
	xmlFreeDoc(dx.doc);
	if (mem == NULL || len <= 0)
		goto fail;
	/* the caller frees with free(3), whatever allocator libxml2 uses */
	*out = strdup((const char *)mem);
	xmlFree(mem);
	if (*out == NULL)
		goto fail;
	return 0;
fail:
	if (err != NULL)
		*err = why;
	return -1;
}
