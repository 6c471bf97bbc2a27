/*
 * virt.h - the only includer of libvirt: connection, domain state and
 * host facts.  Qubes are matched to libvirt domains by name.
 *
 * Without a connection (offline) every qube is Halted and host values are
 * the reference's offline values.
 */
#ifndef VIRT_H
#define VIRT_H

#include <stdint.h>

struct vm;

int	virt_open(const char *uri);
void	virt_close(void);
/* Power state name of calls-core.md 0.2. */
const char *virt_power_state(const struct vm *vm);
int	virt_xid(const struct vm *vm);
int	virt_stubdom_xid(const struct vm *vm);
/* Host memory in KiB (node info), 0 when unknown. */
uint64_t virt_host_mem_kib(void);
/* admin.vm.CurrentState values. */
void	virt_current_state(const struct vm *vm, unsigned long long *mem,
	    unsigned long long *maxmem, unsigned long long *cputime);

#endif
