/*
 * test_domxml.c - broker/domxml.c: the libvirt domain XML of a qube.
 *
 * Valid inputs per kind are built, parsed back with libxml2 and checked
 * with XPath (each expected value is the string value of an expression,
 * so counts check absence too), and validated against libvirt's own
 * RelaxNG schema when it is installed.  Invalid inputs are one change
 * each to a valid base and must fail with their rule's reason.  Last, the
 * out-of-memory path: every libxml2 allocation of a build is failed in
 * turn.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domxml.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SCHEMA		"/usr/share/libvirt/schemas/domain.rng"
#define UUID		"4a1a86a1-a031-4b83-8564-d9b294a04f41"
#define KERNEL		"/var/lib/qubes/vm-kernels/6.6.48-1/vmlinuz"
#define INITRD		"/var/lib/qubes/vm-kernels/6.6.48-1/initramfs"
#define NAME63 \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567._-"
/* paths a careless string paster would break */
#define NASTY		"/var/lib/qubes/a<b&c\"d'e>f/root.img"
#define NASTY_CMD	"console=ttyS0 x=\"a<b\" y='c&d' z=]]> &amp;"

/* ---- libxml2 allocations, failing on demand */

static long mem_countdown;	/* fail the allocation that takes it to 0 */
static long mem_calls;

static int
mem_fail(void)
{
	mem_calls++;
	return mem_countdown > 0 && --mem_countdown == 0;
}

static void *
mem_malloc(size_t n)
{
	return mem_fail() ? NULL : malloc(n);
}

static void *
mem_realloc(void *p, size_t n)
{
	return mem_fail() ? NULL : realloc(p, n);
}

static char *
mem_strdup(const char *s)
{
	return mem_fail() ? NULL : strdup(s);
}

/* libxml2 reports each failed allocation; expected in test_oom */
static void
quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* ---- checks on a built document */

struct xcheck {
	const char	*xpath;
	const char	*want;	/* string value of the expression */
};

struct vcase {
	const char		*label;
	struct domxml_in	 in;
	struct xcheck		 x[40];
};

static const struct domxml_disk xen_disks[] = {
	{ "/var/lib/qubes/vm-templates/fedora/root.img", "xvda", 1, 0 },
	{ "/var/lib/qubes/appvms/work/private.img", "xvdb", 0, 0 },
	{ "/dev/qubes_dom0/vm-work-volatile", "xvdc", 0, 1 },
};

static const struct domxml_disk vd_disks[] = {
	{ "/srv/img/root.img", "vda", 0, 0 },
	{ "/dev/vg0/data", "vdb", 1, 1 },
};

static const struct domxml_disk nasty_xen[] = { { NASTY, "xvda", 0, 0 } };
static const struct domxml_disk nasty_vd[] = { { NASTY, "vda", 1, 0 } };

static struct domxml_disk many_xen[DOMXML_DISKS_MAX];
static struct domxml_disk many_vd[DOMXML_DISKS_MAX + 1];
static char many_names[2][DOMXML_DISKS_MAX + 1][8];

#define D	"/domain/devices"

static const struct vcase valid[] = {
	{ "xen pvh, kernel, 3 disks, network", {
		.kind = DOMXML_XEN, .name = "work", .uuid = UUID,
		.memory_mib = 400, .maxmem_mib = 4000, .vcpus = 2,
		.virt_mode = "pvh", .kernel = KERNEL, .initramfs = INITRD,
		.cmdline = "swiotlb=2048",
		.disks = xen_disks, .ndisks = 3, .netvm = "sys-firewall",
		.ip = "10.137.0.5", .mac = "00:16:3e:5e:6c:05",
	    }, {
		{ "string(/domain/@type)", "xen" },
		{ "string(/domain/name)", "work" },
		{ "string(/domain/uuid)", UUID },
		{ "string(/domain/memory)", "4096000" },
		{ "string(/domain/memory/@unit)", "KiB" },
		{ "string(/domain/currentMemory)", "409600" },
		{ "string(/domain/currentMemory/@unit)", "KiB" },
		{ "string(/domain/vcpu)", "2" },
		{ "string(/domain/os/type)", "xenpvh" },
		{ "string(/domain/os/type/@machine)", "xenpvh" },
		{ "string(/domain/os/type/@arch)", "x86_64" },
		{ "string(/domain/os/kernel)", KERNEL },
		{ "string(/domain/os/initrd)", INITRD },
		{ "string(/domain/os/cmdline)", "swiotlb=2048" },
		{ "count(/domain/os/boot)", "0" },
		{ "count(/domain/features/acpi)", "1" },
		{ "string(/domain/cpu/@mode)", "host-passthrough" },
		{ "string(/domain/on_poweroff)", "destroy" },
		{ "string(/domain/on_reboot)", "destroy" },
		{ "string(/domain/on_crash)", "destroy" },
		{ "count(" D "/disk)", "3" },
		{ "count(" D "/disk[@type='block'][@device='disk']"
		    "[driver/@name='phy'])", "3" },
		{ "string(" D "/disk[1]/source/@dev)", xen_disks[0].path },
		{ "string(" D "/disk[1]/target/@dev)", "xvda" },
		{ "count(" D "/disk[1]/readonly)", "1" },
		{ "string(" D "/disk[2]/source/@dev)", xen_disks[1].path },
		{ "string(" D "/disk[2]/target/@dev)", "xvdb" },
		{ "count(" D "/disk[2]/readonly)", "0" },
		{ "string(" D "/disk[3]/source/@dev)", xen_disks[2].path },
		{ "string(" D "/disk[3]/target/@dev)", "xvdc" },
		{ "string(" D "/interface/@type)", "ethernet" },
		{ "string(" D "/interface/mac/@address)", "00:16:3e:5e:6c:05" },
		{ "string(" D "/interface/ip/@address)", "10.137.0.5" },
		{ "count(" D "/interface/ip/@family)", "0" },
		{ "string(" D "/interface/backenddomain/@name)",
		    "sys-firewall" },
		{ "string(" D "/interface/script/@path)", "vif-route-qubes" },
		{ "string(" D "/console/@type)", "pty" },
		{ "string(" D "/console/target/@type)", "xen" },
		{ "string(/domain/metadata/q:netvm)", "sys-firewall" },
	    } },
	{ "xen hvm, no kernel, maxmem 0, no network", {
		.kind = DOMXML_XEN, .name = "win10", .uuid = UUID,
		.memory_mib = 4096, .vcpus = 4, .virt_mode = "hvm",
		.disks = xen_disks, .ndisks = 1,
	    }, {
		{ "string(/domain/@type)", "xen" },
		{ "string(/domain/memory)", "4194304" },
		{ "string(/domain/currentMemory)", "4194304" },
		{ "string(/domain/vcpu)", "4" },
		{ "string(/domain/os/type)", "hvm" },
		{ "string(/domain/os/type/@machine)", "xenfv" },
		{ "count(/domain/os/kernel)", "0" },
		{ "count(/domain/os/cmdline)", "0" },
		{ "string(/domain/os/boot[last()]/@dev)", "hd" },
		{ "count(/domain/features/pae)", "1" },
		{ "count(/domain/features/acpi)", "1" },
		{ "count(/domain/features/apic)", "1" },
		{ "string(/domain/clock/@offset)", "variable" },
		{ "count(/domain/metadata)", "0" },
		{ "count(" D "/interface)", "0" },
		{ "count(" D "/disk)", "1" },
		{ "string(" D "/console/target/@port)", "0" },
	    } },
	{ "xen pv", {
		.kind = DOMXML_XEN, .name = "old-pv", .memory_mib = 1,
		.maxmem_mib = 1, .vcpus = 1, .virt_mode = "pv",
		.kernel = KERNEL,
	    }, {
		{ "string(/domain/os/type)", "linux" },
		{ "string(/domain/os/type/@machine)", "xenpv" },
		{ "string(/domain/memory)", "1024" },
		{ "string(/domain/currentMemory)", "1024" },
		{ "count(/domain/uuid)", "0" },
		{ "count(/domain/features)", "0" },
		{ "count(/domain/cpu)", "0" },
		{ "count(/domain/os/initrd)", "0" },
		{ "count(" D "/disk)", "0" },
		{ "string(/domain/clock/@offset)", "utc" },
	    } },
	{ "xen hvm with kernel, ipv6, no mac", {
		.kind = DOMXML_XEN, .name = "v6", .memory_mib = 400,
		.maxmem_mib = 400, .vcpus = 512, .virt_mode = "hvm",
		.kernel = KERNEL, .cmdline = "", .netvm = "sys-net",
		.ip = "fd09:24ef:4179::a89:5",
	    }, {
		{ "string(/domain/vcpu)", "512" },
		{ "string(/domain/os/kernel)", KERNEL },
		{ "count(/domain/os/cmdline)", "1" },
		{ "string(/domain/os/cmdline)", "" },
		{ "count(/domain/os/boot)", "0" },
		{ "string(" D "/interface/ip/@family)", "ipv6" },
		{ "string(" D "/interface/ip/@address)",
		    "fd09:24ef:4179::a89:5" },
		{ "count(" D "/interface/mac)", "0" },
	    } },
	{ "xen, escaping", {
		.kind = DOMXML_XEN, .name = NAME63, .memory_mib = 400,
		.vcpus = 2, .virt_mode = "pvh", .kernel = KERNEL,
		.cmdline = NASTY_CMD, .disks = nasty_xen, .ndisks = 1,
	    }, {
		{ "string(/domain/name)", NAME63 },
		{ "string(" D "/disk/source/@dev)", NASTY },
		{ "string(/domain/os/cmdline)", NASTY_CMD },
	    } },
	{ "xen, 26 disks", {
		.kind = DOMXML_XEN, .name = "many", .memory_mib = 400,
		.vcpus = 2, .virt_mode = "pvh", .kernel = KERNEL,
		.disks = many_xen, .ndisks = DOMXML_DISKS_MAX,
	    }, {
		{ "count(" D "/disk)", "26" },
		{ "string(" D "/disk[26]/target/@dev)", "xvdz" },
		{ "string(" D "/disk[26]/source/@dev)", "/img/z" },
	    } },
	{ "qemu kvm, kernel, console file, emulator, netvm as metadata", {
		.kind = DOMXML_QEMU, .name = "tiny", .uuid = UUID,
		.memory_mib = 128, .maxmem_mib = 256, .vcpus = 1,
		.virt_mode = "pvh", .kernel = "/srv/vmlinuz",
		.initramfs = "/srv/initrd.img", .cmdline = NASTY_CMD,
		.disks = vd_disks, .ndisks = 2, .netvm = "sys-net",
		.ip = "10.137.0.9", .mac = "00:16:3e:5e:6c:09", .kvm = 1,
		.emulator = "/usr/bin/qemu-system-x86_64",
		.console_log = "/run/qubes/guest-tiny.log",
	    }, {
		{ "string(/domain/@type)", "kvm" },
		{ "string(/domain/name)", "tiny" },
		{ "string(/domain/uuid)", UUID },
		{ "string(/domain/memory)", "262144" },
		{ "string(/domain/currentMemory)", "131072" },
		{ "string(/domain/vcpu)", "1" },
		{ "string(/domain/os/type)", "hvm" },
		{ "string(/domain/os/type/@machine)", "pc" },
		{ "string(/domain/os/type/@arch)", "x86_64" },
		{ "string(/domain/os/kernel)", "/srv/vmlinuz" },
		{ "string(/domain/os/initrd)", "/srv/initrd.img" },
		{ "string(/domain/os/cmdline)", NASTY_CMD },
		{ "count(/domain/features/acpi)", "1" },
		{ "count(/domain/features/apic)", "1" },
		{ "count(/domain/features/pae)", "0" },
		{ "string(/domain/on_poweroff)", "destroy" },
		{ "string(/domain/on_reboot)", "destroy" },
		{ "string(/domain/on_crash)", "destroy" },
		{ "string(" D "/emulator)", "/usr/bin/qemu-system-x86_64" },
		{ "count(" D "/disk)", "2" },
		{ "string(" D "/disk[1]/@type)", "file" },
		{ "string(" D "/disk[1]/driver/@name)", "qemu" },
		{ "string(" D "/disk[1]/driver/@type)", "raw" },
		{ "string(" D "/disk[1]/source/@file)", "/srv/img/root.img" },
		{ "string(" D "/disk[1]/target/@dev)", "vda" },
		{ "string(" D "/disk[1]/target/@bus)", "virtio" },
		{ "count(" D "/disk[1]/readonly)", "0" },
		{ "string(" D "/disk[2]/@type)", "block" },
		{ "string(" D "/disk[2]/source/@dev)", "/dev/vg0/data" },
		{ "string(" D "/disk[2]/target/@dev)", "vdb" },
		{ "count(" D "/disk[2]/readonly)", "1" },
		{ "string(" D "/serial/@type)", "file" },
		{ "string(" D "/serial/source/@path)",
		    "/run/qubes/guest-tiny.log" },
		{ "string(" D "/serial/target/@port)", "0" },
		{ "string(" D "/console/@type)", "file" },
		{ "string(" D "/console/target/@type)", "serial" },
		{ "string(" D "/memballoon/@model)", "none" },
		{ "count(" D "/interface | " D "/graphics)", "0" },
		{ "string(/domain/metadata/q:netvm)", "sys-net" },
	    } },
	{ "qemu tcg, boot from disk, pty console", {
		.kind = DOMXML_QEMU, .name = "tcg", .memory_mib = 64,
		.vcpus = 1, .virt_mode = "hvm", .disks = vd_disks,
		.ndisks = 1,
	    }, {
		{ "string(/domain/@type)", "qemu" },
		{ "string(/domain/memory)", "65536" },
		{ "count(/domain/os/kernel)", "0" },
		{ "string(/domain/os/boot/@dev)", "hd" },
		{ "count(" D "/emulator)", "0" },
		{ "string(" D "/serial/@type)", "pty" },
		{ "count(" D "/serial/source)", "0" },
		{ "string(" D "/console/@type)", "pty" },
		{ "count(/domain/metadata)", "0" },
	    } },
	{ "qemu, escaping", {
		.kind = DOMXML_QEMU, .name = "a-b", .memory_mib = 64,
		.vcpus = 1, .virt_mode = "hvm", .disks = nasty_vd,
		.ndisks = 1, .console_log = NASTY,
	    }, {
		{ "string(" D "/disk/source/@file)", NASTY },
		{ "count(" D "/disk/readonly)", "1" },
		{ "string(" D "/serial/source/@path)", NASTY },
		{ "string(" D "/console/source/@path)", NASTY },
	    } },
	{ "test, minimal", {
		.kind = DOMXML_TEST, .name = "t", .memory_mib = 400,
		.vcpus = 2, .virt_mode = "pvh", .disks = vd_disks,
		.ndisks = 1, .kvm = 1,
	    }, {
		{ "string(/domain/@type)", "test" },
		{ "string(/domain/name)", "t" },
		{ "count(/domain/uuid)", "0" },
		{ "string(/domain/memory)", "409600" },
		{ "string(/domain/currentMemory)", "409600" },
		{ "string(/domain/os/type)", "hvm" },
		{ "count(/domain/os/type/@machine)", "0" },
		{ "count(/domain/os/kernel)", "0" },
		{ "count(" D "/disk)", "1" },
		{ "string(" D "/disk/@type)", "file" },
		{ "string(" D "/disk/source/@file)", "/srv/img/root.img" },
		{ "string(" D "/disk/target/@dev)", "vda" },
		{ "count(" D "/serial | " D "/console | " D "/interface)",
		    "0" },
	    } },
	{ "test, kernel, console file, netvm", {
		.kind = DOMXML_TEST, .name = "t2", .uuid = UUID,
		.memory_mib = 400, .maxmem_mib = 800, .vcpus = 2,
		.virt_mode = "pv", .kernel = KERNEL, .cmdline = "quiet",
		.disks = many_vd, .ndisks = 3, .netvm = "sys-firewall",
		.console_log = "/tmp/t2.log",
	    }, {
		{ "string(/domain/uuid)", UUID },
		{ "string(/domain/memory)", "819200" },
		{ "string(/domain/currentMemory)", "409600" },
		{ "string(/domain/os/kernel)", KERNEL },
		{ "string(/domain/os/cmdline)", "quiet" },
		{ "count(" D "/disk)", "3" },
		{ "string(" D "/disk[3]/target/@dev)", "vdc" },
		{ "string(" D "/serial/source/@path)", "/tmp/t2.log" },
		{ "string(/domain/metadata/q:netvm)", "sys-firewall" },
		{ "count(" D "/interface)", "0" },
	    } },
};

/* ---- invalid inputs: one change each to a valid base */

enum field {
	F_KIND, F_NAME, F_UUID, F_MEM, F_MAXMEM, F_VCPUS, F_MODE, F_KERNEL,
	F_INITRD, F_CMDLINE, F_EMULATOR, F_CONSOLE, F_NETVM, F_IP, F_MAC,
	F_DPATH, F_DTARGET, F_DTARGET2, F_NDISKS, F_NODISKS, F_NONE
};

struct icase {
	const char	*label;
	enum domxml_kind base;
	enum field	 field;
	const char	*s;
	unsigned long	 n;
	const char	*err;
};

static char long_cmdline[DOMXML_CMDLINE_MAX + 2];
static char long_path[4098];

static const struct icase invalid[] = {
	{ "kind 7", DOMXML_XEN, F_KIND, NULL, 7, "unknown domain kind" },
	{ "kind -1", DOMXML_XEN, F_KIND, NULL, (unsigned long)-1,
	    "unknown domain kind" },
	{ "name NULL", DOMXML_XEN, F_NAME, NULL, 0, "empty name" },
	{ "name empty", DOMXML_QEMU, F_NAME, "", 0, "empty name" },
	{ "name a&b", DOMXML_XEN, F_NAME, "a&b", 0, "invalid name" },
	{ "name a<b", DOMXML_TEST, F_NAME, "a<b", 0, "invalid name" },
	{ "name with space", DOMXML_XEN, F_NAME, "a b", 0, "invalid name" },
	{ "name with slash", DOMXML_XEN, F_NAME, "a/b", 0, "invalid name" },
	{ "name non-ascii", DOMXML_XEN, F_NAME, "caf\xc3\xa9", 0,
	    "invalid name" },
	{ "name 64 bytes", DOMXML_XEN, F_NAME, NAME63 "x", 0,
	    "invalid name" },
	{ "uuid short", DOMXML_XEN, F_UUID, "4a1a86a1", 0, "invalid uuid" },
	{ "uuid non-hex", DOMXML_XEN, F_UUID,
	    "4a1a86a1-a031-4b83-8564-d9b294a04f4g", 0, "invalid uuid" },
	{ "uuid dashes moved", DOMXML_QEMU, F_UUID,
	    "4a1a86a1a-031-4b83-8564-d9b294a04f41", 0, "invalid uuid" },
	{ "uuid empty", DOMXML_TEST, F_UUID, "", 0, "invalid uuid" },
	{ "memory 0", DOMXML_XEN, F_MEM, NULL, 0,
	    "memory must be positive" },
	{ "memory 0, test", DOMXML_TEST, F_MEM, NULL, 0,
	    "memory must be positive" },
	{ "maxmem below memory", DOMXML_XEN, F_MAXMEM, NULL, 399,
	    "maxmem below memory" },
	{ "maxmem overflows KiB", DOMXML_QEMU, F_MAXMEM, NULL, ~0UL,
	    "memory too large" },
	{ "memory overflows KiB", DOMXML_QEMU, F_MEM, NULL, ~0UL / 1024 + 1,
	    "memory too large" },
	{ "vcpus 0", DOMXML_XEN, F_VCPUS, NULL, 0, "vcpus out of range" },
	{ "vcpus 513", DOMXML_QEMU, F_VCPUS, NULL, 513,
	    "vcpus out of range" },
	{ "virt_mode NULL", DOMXML_XEN, F_MODE, NULL, 0,
	    "invalid virt_mode" },
	{ "virt_mode empty", DOMXML_XEN, F_MODE, "", 0,
	    "invalid virt_mode" },
	{ "virt_mode PVH (stored lowercase)", DOMXML_XEN, F_MODE, "PVH", 0,
	    "invalid virt_mode" },
	{ "virt_mode kvm", DOMXML_QEMU, F_MODE, "kvm", 0,
	    "invalid virt_mode" },
	{ "kernel relative", DOMXML_XEN, F_KERNEL, "vmlinuz", 0,
	    "invalid kernel path" },
	{ "kernel /", DOMXML_XEN, F_KERNEL, "/", 0, "invalid kernel path" },
	{ "kernel empty", DOMXML_QEMU, F_KERNEL, "", 0,
	    "invalid kernel path" },
	{ "kernel with newline", DOMXML_XEN, F_KERNEL, "/boot/a\nb", 0,
	    "invalid kernel path" },
	{ "kernel too long", DOMXML_XEN, F_KERNEL, long_path, 0,
	    "invalid kernel path" },
	{ "initramfs relative", DOMXML_XEN, F_INITRD, "initramfs", 0,
	    "invalid initramfs path" },
	{ "pvh without kernel on xen", DOMXML_XEN, F_KERNEL, NULL, 0,
	    "xen pv and pvh need a kernel" },
	{ "cmdline with newline", DOMXML_XEN, F_CMDLINE, "a\nb", 0,
	    "invalid cmdline" },
	{ "cmdline with escape", DOMXML_QEMU, F_CMDLINE, "a\x1b[0m", 0,
	    "invalid cmdline" },
	{ "cmdline bad utf-8", DOMXML_XEN, F_CMDLINE, "a\xff", 0,
	    "invalid cmdline" },
	{ "cmdline too long", DOMXML_XEN, F_CMDLINE, long_cmdline, 0,
	    "invalid cmdline" },
	{ "emulator relative", DOMXML_QEMU, F_EMULATOR, "qemu", 0,
	    "invalid emulator path" },
	{ "console_log with tab", DOMXML_QEMU, F_CONSOLE, "/tmp/a\tb", 0,
	    "invalid console_log path" },
	{ "console_log relative", DOMXML_TEST, F_CONSOLE, "guest.log", 0,
	    "invalid console_log path" },
	{ "netvm a&b", DOMXML_XEN, F_NETVM, "a&b", 0, "invalid netvm name" },
	{ "netvm empty", DOMXML_XEN, F_NETVM, "", 0, "invalid netvm name" },
	{ "ip 10.0.0.300", DOMXML_XEN, F_IP, "10.0.0.300", 0,
	    "invalid ip" },
	{ "ip with quote", DOMXML_XEN, F_IP, "10.0.0.1'", 0, "invalid ip" },
	{ "mac short", DOMXML_XEN, F_MAC, "00:16:3e:00:00", 0,
	    "invalid mac" },
	{ "mac multicast", DOMXML_XEN, F_MAC, "01:16:3e:00:00:01", 0,
	    "invalid mac" },
	{ "mac dashes", DOMXML_XEN, F_MAC, "00-16-3e-00-00-01", 0,
	    "invalid mac" },
	{ "disk path NULL", DOMXML_XEN, F_DPATH, NULL, 0,
	    "invalid disk path" },
	{ "disk path relative", DOMXML_QEMU, F_DPATH, "root.img", 0,
	    "invalid disk path" },
	{ "disk path with newline", DOMXML_TEST, F_DPATH, "/a\nb", 0,
	    "invalid disk path" },
	{ "disk target NULL", DOMXML_XEN, F_DTARGET, NULL, 0,
	    "invalid disk target" },
	{ "disk target vda on xen", DOMXML_XEN, F_DTARGET, "vda", 0,
	    "invalid disk target" },
	{ "disk target xvda on qemu", DOMXML_QEMU, F_DTARGET, "xvda", 0,
	    "invalid disk target" },
	{ "disk target sda on test", DOMXML_TEST, F_DTARGET, "sda", 0,
	    "invalid disk target" },
	{ "disk target vdaa", DOMXML_QEMU, F_DTARGET, "vdaa", 0,
	    "invalid disk target" },
	{ "disk target vdA", DOMXML_QEMU, F_DTARGET, "vdA", 0,
	    "invalid disk target" },
	{ "disk target vd", DOMXML_QEMU, F_DTARGET, "vd", 0,
	    "invalid disk target" },
	{ "disk target twice", DOMXML_XEN, F_DTARGET2, NULL, 0,
	    "duplicate disk target" },
	{ "27 disks", DOMXML_QEMU, F_NDISKS, NULL, DOMXML_DISKS_MAX + 1,
	    "too many disks" },
	{ "disks NULL with ndisks 1", DOMXML_QEMU, F_NODISKS, NULL, 0,
	    "disks missing" },
};

static void
base_input(enum domxml_kind kind, struct domxml_in *in)
{
	memset(in, 0, sizeof(*in));
	in->kind = kind;
	in->name = "work";
	in->uuid = UUID;
	in->memory_mib = 400;
	in->maxmem_mib = 4000;
	in->vcpus = 2;
	in->virt_mode = "pvh";
	in->kernel = KERNEL;
	in->initramfs = INITRD;
	in->cmdline = "swiotlb=2048";
	in->netvm = "sys-firewall";
	in->ip = "10.137.0.5";
	in->mac = "00:16:3e:5e:6c:05";
	in->disks = kind == DOMXML_XEN ? many_xen : many_vd;
	in->ndisks = 2;
	if (kind == DOMXML_QEMU) {
		in->emulator = "/usr/bin/qemu-system-x86_64";
		in->console_log = "/run/qubes/guest-work.log";
	}
}

/* ---- helpers */

static char *
xp(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj = NULL;
	xmlChar *s = NULL;
	char *r;

	if ((ctx = xmlXPathNewContext(doc)) == NULL)
		return NULL;
	if (xmlXPathRegisterNs(ctx, (const xmlChar *)"q",
	    (const xmlChar *)DOMXML_NS) == 0)
		obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (obj != NULL)
		s = xmlXPathCastToString(obj);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	if (s == NULL)
		return NULL;
	r = strdup((const char *)s);
	xmlFree(s);
	return r;
}

static int
schema_valid(xmlRelaxNGPtr schema, xmlDocPtr doc)
{
	xmlRelaxNGValidCtxtPtr v;
	int rc;

	if ((v = xmlRelaxNGNewValidCtxt(schema)) == NULL)
		return 0;
	rc = xmlRelaxNGValidateDoc(v, doc);
	xmlRelaxNGFreeValidCtxt(v);
	return rc == 0;
}

static xmlRelaxNGPtr
schema_load(void)
{
	xmlRelaxNGParserCtxtPtr p;
	xmlRelaxNGPtr s;

	if (access(SCHEMA, R_OK) != 0)
		return NULL;
	if ((p = xmlRelaxNGNewParserCtxt(SCHEMA)) == NULL)
		return NULL;
	s = xmlRelaxNGParse(p);
	xmlRelaxNGFreeParserCtxt(p);
	return s;
}

static void
setup(void)
{
	size_t i;

	for (i = 0; i < NELEM(many_vd); i++) {
		snprintf(many_names[0][i], sizeof(many_names[0][i]), "xvd%c",
		    (char)('a' + i % 26));
		snprintf(many_names[1][i], sizeof(many_names[1][i]), "vd%c",
		    (char)('a' + i % 26));
		if (i < NELEM(many_xen)) {
			many_xen[i].path = "/img/z";
			many_xen[i].target = many_names[0][i];
		}
		many_vd[i].path = "/img/v";
		many_vd[i].target = many_names[1][i];
	}
	memset(long_cmdline, 'x', DOMXML_CMDLINE_MAX + 1);
	long_path[0] = '/';
	memset(long_path + 1, 'p', sizeof(long_path) - 2);
}

/* ---- the tests */

static void
test_kind_for_uri(void)
{
	static const struct {
		const char	*uri;
		int		 want;
	} t[] = {
		{ "xen:///", DOMXML_XEN },
		{ "xen:///system", DOMXML_XEN },
		{ "xen+ssh://root@host/", DOMXML_XEN },
		{ "qemu:///system", DOMXML_QEMU },
		{ "qemu:///session", DOMXML_QEMU },
		{ "qemu+unix:///system", DOMXML_QEMU },
		{ "test:///default", DOMXML_TEST },
		{ "test:///tmp/node.xml", DOMXML_TEST },
		{ "lxc:///", -1 },
		{ "xenfoo:///", -1 },
		{ "Xen:///", -1 },
		{ "qem", -1 },
		{ "", -1 },
		{ NULL, -1 },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++)
		is_int(domxml_kind_for_uri(t[i].uri), t[i].want,
		    "kind for uri %s", unit_qs(t[i].uri));
}

static void
test_valid(xmlRelaxNGPtr schema)
{
	const struct vcase *c;
	const struct xcheck *x;
	const char *err;
	xmlDocPtr doc;
	char *out, *got;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(valid); i++) {
		c = &valid[i];
		out = NULL;
		err = NULL;
		rc = domxml_build(&c->in, &out, &err);
		if (!is_int(rc, 0, "%s: builds", c->label)) {
			diag("error: %s", err ? err : "(none)");
			continue;
		}
		doc = xmlReadMemory(out, (int)strlen(out), "domxml.xml", NULL,
		    XML_PARSE_NONET);
		if (!ok(doc != NULL, "%s: parses back", c->label)) {
			free(out);
			continue;
		}
		for (x = c->x; x < c->x + NELEM(c->x) && x->xpath; x++) {
			got = xp(doc, x->xpath);
			is_str(got, x->want, "%s: %s", c->label, x->xpath);
			free(got);
		}
		/* nothing pasted: the raw text carries no unescaped '<' or
		 * '&' from a value */
		if (strstr(c->label, "escaping") != NULL) {
			ok(strstr(out, "a<b") == NULL &&
			    strstr(out, "c&d") == NULL &&
			    strstr(out, "b&c") == NULL,
			    "%s: no raw '<' or '&' from a value", c->label);
			ok(strstr(out, "a&lt;b&amp;c") != NULL,
			    "%s: escaped by libxml2", c->label);
		}
		if (schema != NULL)
			ok(schema_valid(schema, doc),
			    "%s: valid per libvirt's domain.rng", c->label);
		xmlFreeDoc(doc);
		free(out);
	}
}

static void
test_invalid(void)
{
	const struct icase *c;
	struct domxml_in in;
	struct domxml_disk d[2];
	const char *err;
	char *out;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(invalid); i++) {
		c = &invalid[i];
		base_input(c->base, &in);
		memcpy(d, in.disks, sizeof(d));
		in.disks = d;
		switch (c->field) {
		case F_KIND: in.kind = (enum domxml_kind)(int)c->n; break;
		case F_NAME: in.name = c->s; break;
		case F_UUID: in.uuid = c->s; break;
		case F_MEM: in.memory_mib = c->n; break;
		case F_MAXMEM: in.maxmem_mib = c->n; break;
		case F_VCPUS: in.vcpus = (unsigned)c->n; break;
		case F_MODE: in.virt_mode = c->s; break;
		case F_KERNEL:
			in.kernel = c->s;
			/* without it, its companions go too */
			if (c->s == NULL)
				in.initramfs = in.cmdline = NULL;
			break;
		case F_INITRD: in.initramfs = c->s; break;
		case F_CMDLINE: in.cmdline = c->s; break;
		case F_EMULATOR: in.emulator = c->s; break;
		case F_CONSOLE: in.console_log = c->s; break;
		case F_NETVM: in.netvm = c->s; break;
		case F_IP: in.ip = c->s; break;
		case F_MAC: in.mac = c->s; break;
		case F_DPATH: d[1].path = c->s; break;
		case F_DTARGET: d[1].target = c->s; break;
		case F_DTARGET2: d[1].target = d[0].target; break;
		case F_NDISKS:
			in.disks = c->base == DOMXML_XEN ? many_xen : many_vd;
			in.ndisks = c->n;
			break;
		case F_NODISKS: in.disks = NULL; in.ndisks = 1; break;
		case F_NONE: break;
		}
		out = (char *)"untouched";
		err = NULL;
		rc = domxml_build(&in, &out, &err);
		is_int(rc, -1, "%s: refused", c->label);
		is_str(err, c->err, "%s: reason", c->label);
		ok(out == NULL, "%s: no output", c->label);
		if (rc == 0)
			free(out);
	}

	/* the bases themselves are fine, so each failure above is the
	 * one change's doing */
	for (i = 0; i < 3; i++) {
		base_input((enum domxml_kind)i, &in);
		out = NULL;
		rc = domxml_build(&in, &out, &err);
		is_int(rc, 0, "base input of kind %zu builds", i);
		free(out);
	}
	out = (char *)"untouched";
	err = NULL;
	is_int(domxml_build(NULL, &out, &err), -1, "NULL input refused");
	is_str(err, "no input", "NULL input: reason");
	ok(out == NULL, "NULL input: no output");
	base_input(DOMXML_XEN, &in);
	in.name = "a&b";
	is_int(domxml_build(&in, &out, NULL), -1,
	    "a NULL err pointer is allowed");
}

/*
 * Fail the 1st, 2nd, ... libxml2 allocation of a build until one
 * succeeds: every failure must be a clean "out of memory" (LeakSanitizer
 * sees anything left behind), and the success must equal an unfailed
 * build.
 */
static void
test_oom(void)
{
	struct domxml_in in;
	const char *err;
	char *want = NULL, *out;
	long n;
	int rc, fails = 0, bad = 0;

	base_input(DOMXML_XEN, &in);
	mem_countdown = 0;
	mem_calls = 0;
	if (!is_int(domxml_build(&in, &want, &err), 0, "oom: reference"))
		return;
	ok(mem_calls > 10, "oom: the build allocates through libxml2 "
	    "(%ld calls)", mem_calls);
	xmlSetGenericErrorFunc(NULL, quiet);
	for (n = 1; n < 100000; n++) {
		mem_countdown = n;
		out = NULL;
		err = NULL;
		rc = domxml_build(&in, &out, &err);
		if (rc == 0 && mem_countdown > 0) {
			free(out);	/* no allocation left to fail */
			break;
		}
		if (rc == 0) {
			/* a failure libxml2 absorbed (its own retries) */
			if (strcmp(out, want) != 0 && bad++ < 3)
				diag("n=%ld: %s", n, out);
			free(out);
			continue;
		}
		fails++;
		if (out != NULL || err == NULL ||
		    strcmp(err, "out of memory") != 0)
			bad++;
	}
	mem_countdown = 0;
	xmlSetGenericErrorFunc(NULL, NULL);
	ok(fails > 10, "oom: %d failed builds", fails);
	is_int(bad, 0, "oom: every failure clean, every success identical");
	free(want);
}

int
main(void)
{
	xmlRelaxNGPtr schema;

	/* before any other libxml2 call, so every allocation goes here */
	if (xmlMemSetup(free, mem_malloc, mem_realloc, mem_strdup) != 0)
		return 1;
	xmlInitParser();
	setup();
	test_kind_for_uri();
	test_invalid();
	test_oom();
	if ((schema = schema_load()) == NULL) {
		if (access(SCHEMA, R_OK) == 0)
			ok(0, "libvirt schema %s loads", SCHEMA);
		else
			printf("# skip: no libvirt schema\n");
	}
	test_valid(schema);
	if (schema != NULL)
		xmlRelaxNGFree(schema);
	xmlCleanupParser();
	return done_testing();
}
