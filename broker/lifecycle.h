/*
 * lifecycle.h - what happens around a qube's start and stop
 * (qubes.vm.qubesvm start / on_libvirt_domain_stopped, calls-core.md 8).
 */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

struct vm;
struct reply;

/* A qube was seen stopped (model lock held): domain-stopped, storage
 * stop, xid/stubdom_xid/start_time reset events, domain-shutdown, and a
 * DispVM with auto_cleanup goes (now, or when its owner releases it).
 * vm may be freed on return. */
void	vm_on_stopped(struct vm *vm);

/* Storage around a start and a stop (storage_run.c). */
int	storage_start_vm(struct reply *r, struct vm *vm);
void	storage_stop_vm(struct vm *vm);

#endif
