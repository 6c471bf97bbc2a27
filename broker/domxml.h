/*
 * domxml.h - the libvirt domain XML of a qube, built from plain values.
 *
 * A pure function: no model, no libvirt connection, no files.  The caller
 * (the start path) collects the qube's properties and volume paths into a
 * struct domxml_in, calls domxml_build() and hands the text to
 * virDomainDefineXML/CreateXML.  The document is built with libxml2's tree
 * API, so every value is escaped by the library, never pasted into text.
 *
 * Three shapes, one per libvirt driver (domxml_kind_for_uri()):
 *
 *  DOMXML_XEN: what qubesd 4.2 gives the libxl driver (its
 *    libvirt/xen.xml template): xenfv/xenpvh/xenpv machine by
 *    virt_mode, memory = maxmem and currentMemory = memory, destroy on
 *    every lifecycle event, phy block disks xvdX, an ethernet interface
 *    routed by vif-route-qubes in the netvm, a xen pty console.
 *    Elements only Qubes' patched libvirt knows (the qubes-block disk
 *    script, the hvmloader <loader>, the stubdom <emulator>) are left
 *    out: upstream libvirt rejects them.
 *  DOMXML_QEMU: a small KVM (or TCG when kvm == 0) guest for tests that
 *    boot real VMs: machine pc with ACPI (the power button is how
 *    Shutdown reaches the guest), virtio disks vdX, the serial console
 *    to a file or a pty, no network, no graphics, no balloon.
 *    virt_mode is checked but does not change the shape.
 *  DOMXML_TEST: the minimum libvirt's test:///default driver accepts.
 *
 * For every kind the netvm, when set, is also recorded in <metadata> as
 * <qubes:netvm> in the DOMXML_NS namespace.
 *
 * Errors: domxml_build() validates everything first and builds nothing
 * for invalid input; the reason is a static string naming the rule that
 * was broken (no value is echoed, the caller may quote the qube name).
 * Ownership: the caller frees *out with free(3).
 */
#ifndef DOMXML_H
#define DOMXML_H

#include <stddef.h>

#define DOMXML_NS	"https://www.qubes-os.org/broker/1"
#define DOMXML_NS_PREFIX "qubes"
#define DOMXML_NAME_MAX	63	/* bytes of a qube name */
#define DOMXML_VCPUS_MAX 512
#define DOMXML_DISKS_MAX 26	/* targets ..a to ..z */
#define DOMXML_CMDLINE_MAX 4096	/* kernelopts is at most 512 in qubesd */

enum domxml_kind { DOMXML_XEN, DOMXML_QEMU, DOMXML_TEST };

struct domxml_disk {
	const char	*path;	/* image file or block device */
	const char	*target; /* "xvda".. for xen, "vda".. else */
	int		 readonly;
	int		 is_block; /* type='block', not 'file' (qemu, test;
				    * xen disks are always phy block, as in
				    * qubesd) */
};

struct domxml_in {
	enum domxml_kind kind;
	const char	*name;		/* qube name */
	const char	*uuid;		/* canonical uuid or NULL */
	unsigned long	 memory_mib;	/* initial memory */
	unsigned long	 maxmem_mib;	/* 0: same as memory */
	unsigned	 vcpus;
	const char	*virt_mode;	/* "pvh", "hvm", "pv" */
	const char	*kernel;	/* path or NULL (from disk) */
	const char	*initramfs;	/* path or NULL; needs kernel */
	const char	*cmdline;	/* or NULL; needs kernel */
	const struct domxml_disk *disks;
	size_t		 ndisks;
	const char	*netvm;		/* network backend or NULL */
	const char	*ip, *mac;	/* the qube's, or NULL */
	int		 kvm;		/* qemu: 1 kvm, 0 qemu (TCG) */
	const char	*emulator;	/* qemu: path or NULL */
	const char	*console_log;	/* qemu/test: serial console
					 * output file, or NULL (pty) */
};

/*
 * The kind for a libvirt URI by its scheme: "xen:" or "xen+<transport>:"
 * is DOMXML_XEN, likewise "qemu" and "test"; anything else (and NULL)
 * is -1.
 */
int	domxml_kind_for_uri(const char *uri);

/*
 * Build the domain XML of in.  Returns 0 with a malloc'd NUL-terminated
 * document in *out; -1 with *out = NULL and a static reason in *err
 * (when err is not NULL): invalid input or out of memory.
 *
 * Rules: name 1..DOMXML_NAME_MAX bytes of [A-Za-z0-9_.-]; uuid NULL or
 * 8-4-4-4-12 hex; memory_mib >= 1; maxmem_mib 0 or >= memory_mib;
 * vcpus 1..DOMXML_VCPUS_MAX; virt_mode "pvh", "hvm" or "pv"; every path
 * (disks, kernel, initramfs, emulator, console_log) absolute, valid
 * UTF-8 without control characters; initramfs and cmdline only with a
 * kernel; cmdline valid UTF-8 without control characters, at most
 * DOMXML_CMDLINE_MAX bytes; at most DOMXML_DISKS_MAX disks, each target
 * the kind's prefix ("xvd" or "vd") plus one letter a-z, no target
 * twice; netvm a qube name; ip an IPv4 or IPv6 address; mac a unicast
 * xx:xx:xx:xx:xx:xx.
 */
int	domxml_build(const struct domxml_in *in, char **out,
	    const char **err);

#endif
