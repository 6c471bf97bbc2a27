/*
 * hook.h - the admin-permission hook of qubesd 4.2 (protocol.md 4.3).
 *
 * hook_list_allows() is the filter of admin.vm.List (and admin.Events):
 * for a non-dom0 source a qube is listed only when the qrexec policy
 * allows the call for it.  Until a policy is loaded nothing is allowed
 * for non-dom0 sources: filtering fails closed.
 */
#ifndef HOOK_H
#define HOOK_H

struct vm;

int	hook_list_allows(const struct vm *src, const char *service,
	    const char *arg, const struct vm *target);

#endif
