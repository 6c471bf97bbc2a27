/*
 * virt.h - the only includer of libvirt: connection, lifecycle events,
 * domain operations and host facts.  Qubes are matched to libvirt domains
 * by name; a qube's libvirt domain is transient (created at start, gone
 * when it stops).
 *
 * Power states are cached in struct vm (model lock held to read them) and
 * kept right by libvirt's lifecycle events, which a thread of ours
 * receives, and by the lifecycle calls themselves: a reader never waits
 * for libvirt.  The virt_do_* operations block: call them without the
 * model lock, with a copy of the qube's name.
 *
 * Without a connection (offline) every qube is Halted and host values are
 * the reference's offline values.
 */
#ifndef VIRT_H
#define VIRT_H

#include <stddef.h>
#include <stdint.h>

struct vm;

enum vm_power {
	PW_HALTED,
	PW_RUNNING,
	PW_PAUSED,
	PW_SUSPENDED,
	PW_HALTING,
	PW_DYING,
	PW_CRASHED,
};

/* Connect, read the running domains, start the event thread. */
int	virt_open(const char *uri);
void	virt_close(void);
/* Connected at all? */
int	virt_online(void);
/* The libvirt URI in use ("" offline). */
const char *virt_uri(void);

/* Power state name of calls-core.md 0.2 (Transient included). */
const char *virt_power_state(const struct vm *vm);
/* libvirt isActive (anything but Halted). */
int	virt_is_active(const struct vm *vm);
int	virt_xid(const struct vm *vm);
int	virt_stubdom_xid(const struct vm *vm);
/* Host memory in KiB (node info), 0 when unknown. */
uint64_t virt_host_mem_kib(void);

/* A fresh look at one domain (blocking). */
struct virt_dominfo {
	int			 exists;	/* libvirt knows the domain */
	int			 state;		/* enum vm_power */
	int			 xid;
	unsigned long long	 mem_kib, maxmem_kib, cputime_ns;
	unsigned		 nvcpus;
};
/* 0, or -1 when libvirt cannot be asked (offline, connection error). */
int	virt_query(const char *name, struct virt_dominfo *di);
/* Domain 0's, for dom0's CurrentState. */
int	virt_query_id0(struct virt_dominfo *di);
/* Bring the cache in step with a query (lock held).  A qube seen
 * stopped gets its stop processed (lifecycle.h). */
void	virt_apply(struct vm *vm, const struct virt_dominfo *di);

/* Blocking operations; 0 or -1 with libvirt's message in err. */
enum virt_op {
	VIRT_RESUME,
	VIRT_SUSPEND,
	VIRT_SHUTDOWN,
	VIRT_DESTROY,
};
int	virt_create_paused(const char *xml, char *err, size_t errlen);
int	virt_do(const char *name, enum virt_op op, char *err, size_t errlen);
/* Every active domain's statistics (for admin.vm.Stats); *out is
 * malloc'd, names included. */
struct virt_stat {
	char			 name[64];
	int			 xid;
	unsigned long long	 mem_kib, cputime_ns;
	unsigned		 nvcpus;
};
int	virt_all_stats(struct virt_stat **out, size_t *n);

/* Test hook: seconds every blocking operation sleeps first
 * (QUBES_BROKER_VIRT_DELAY: a slow libvirt). */
extern double virt_delay;

#endif
