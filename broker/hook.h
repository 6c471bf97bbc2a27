/*
 * hook.h - the admin-permission hook of qubesd 4.2 (protocol.md 4.3).
 *
 * hook_list_allows() is the filter of admin.vm.List (and admin.Events):
 * for a non-dom0 source a qube is listed only when the qrexec policy
 * (lib/policy.h), evaluated non-interactively for SERVICE, argument
 * "+" + arg, source = the caller, target = the qube, says allow; "ask"
 * and "deny" drop it.  dom0 is never filtered.
 *
 * hook_policy_init() names the policy directory and loads it (start-up);
 * before every evaluation the policy is re-read if any file it was read
 * from changed (stat check), and the system information is rebuilt from
 * the model when the model changed.  A policy that does not parse denies
 * everything (filtering fails closed) and its errors are logged once per
 * load.  hook_cleanup() frees it all.
 */
#ifndef HOOK_H
#define HOOK_H

struct vm;

/* 0, or -1 if out of memory (the policy errors are only logged). */
int	hook_policy_init(const char *policy_dir);
void	hook_cleanup(void);

int	hook_list_allows(const struct vm *src, const char *service,
	    const char *arg, const struct vm *target);

#endif
