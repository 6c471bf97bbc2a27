/*
 * sysinfo.h - what internal.GetSystemInfo says about each qube
 * (protocol.md 9), shared by its JSON reply (api_internal.c) and by the
 * qrexec policy filter (hook.c), which builds a struct policy_sysinfo
 * (lib/policy.h) from the model directly, without JSON.
 *
 * sysinfo_entry() fills the fields of one qube from the model; the
 * pointers borrow from the model and are valid until it changes.
 * power_state is not part of the entry: it asks libvirt
 * (virt_power_state()), so callers fetch it only when needed.
 */
#ifndef SYSINFO_H
#define SYSINFO_H

#include <stddef.h>

struct app;
struct vm;
struct policy_sysinfo;

struct sysinfo_entry {
	const struct vm	*vm;
	const char	*name;
	const char	*type;			/* class name */
	int		 template_for_dispvms;
	const char	*default_dispvm;	/* NULL: none */
	char		 icon[128];		/* "appvm-<label>" */
	const char	*guivm;			/* NULL: none */
};

void	sysinfo_entry(const struct vm *vm, struct sysinfo_entry *e);
/* The JSON text of the reply (after "0\0"), malloc'd; NULL on failure. */
char	*sysinfo_json(const struct app *a);
/*
 * The same data as a policy_sysinfo; power states are looked up through
 * virt_power_state() when the evaluator needs one.  NULL with errno.
 */
struct policy_sysinfo *sysinfo_policy(const struct app *a);

#endif
