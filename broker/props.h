/*
 * props.h - property definitions, defaults, computed values, and the
 * Set/Reset semantics of qubes and of the global object (properties.md).
 *
 * Values are text.  A read yields one of:
 *	VAL_SET   a value (*out, malloc'd, caller frees)
 *	VAL_NONE  Python None (prints as empty)
 *	VAL_NODEF no value and no default (reading fails in qubesd)
 *
 * Set and Reset implement the whole check order of calls-core.md 3 up to
 * (not including) saving: parsing, assignment checks, pre-event refusals,
 * the change itself with its derived effects (tags, features), and the
 * events, which are queued in events.c until the caller commits.
 */
#ifndef PROPS_H
#define PROPS_H

#include <stddef.h>

#include "call.h"
#include "model.h"

enum ptype {
	PT_STR,
	PT_INT,
	PT_BOOL,
	PT_VM,
	PT_LABEL,
	PT_IPV4,
	PT_IPV6,
	PT_UUID,
	PT_UNTYPED,
};

#define PF_COMPUTED	0x01	/* stateless: Set refused, Reset a no-op */
#define PF_WRITE_ONCE	0x02
#define PF_ALLOW_NONE	0x04	/* qube-valued property may be None */
#define PF_TEMPLATEVM	0x08	/* qube-valued, must be a TemplateVM */
#define PF_DOM0_FIXED	0x10	/* AdminVM: forbidden setter, untyped */

struct propdef {
	const char	*name;
	unsigned	 classes;	/* VMC_BIT mask; 0 for global */
	int		 stage;
	enum ptype	 type;
	unsigned	 flags;
	const char	*help;
};

enum { VAL_NODEF = -1, VAL_NONE = 0, VAL_SET = 1 };

/* VM property ids, in (stage, name) order. */
enum vmprop {
	VMP_auto_cleanup, VMP_autostart, VMP_backup_timestamp, VMP_debug,
	VMP_default_user, VMP_dispid, VMP_dns, VMP_gateway, VMP_gateway6,
	VMP_icon, VMP_include_in_backups, VMP_installed_by_rpm, VMP_ip,
	VMP_ip6, VMP_kernel, VMP_keyboard_layout, VMP_klass, VMP_label,
	VMP_mac, VMP_maxmem, VMP_memory, VMP_name, VMP_provides_network,
	VMP_qid, VMP_qrexec_timeout, VMP_shutdown_timeout, VMP_start_time,
	VMP_stubdom_mem, VMP_stubdom_xid, VMP_template_for_dispvms,
	VMP_updateable, VMP_uuid, VMP_vcpus, VMP_virt_mode,
	VMP_visible_gateway, VMP_visible_gateway6, VMP_visible_ip,
	VMP_visible_ip6, VMP_visible_netmask, VMP_xid,
	VMP_audiovm, VMP_default_dispvm, VMP_guivm, VMP_kernelopts,
	VMP_management_dispvm, VMP_netvm, VMP_template,
	VMP_COUNT
};

enum gprop {
	GP_check_updates_vm, GP_clockvm, GP_default_audiovm, GP_default_dispvm,
	GP_default_guivm, GP_default_kernel, GP_default_netvm, GP_default_pool,
	GP_default_pool_kernel, GP_default_pool_private, GP_default_pool_root,
	GP_default_pool_volatile, GP_default_qrexec_timeout,
	GP_default_shutdown_timeout, GP_default_template, GP_management_dispvm,
	GP_stats_interval, GP_updatevm,
	GP_COUNT
};

extern const struct propdef vm_props[VMP_COUNT];
extern const struct propdef global_props[GP_COUNT];

/* Id by name; -1 if unknown (for vm: unknown to every class). */
int	vmprop_id(const char *name);
int	gprop_id(const char *name);
/* Does this property exist for the qube's class? */
int	vmprop_applies(const struct vm *vm, int pid);
/* "vm", "int", "bool", "label" or "str" (calls-core.md 0.3). */
const char *vmprop_api_type(const struct vm *vm, int pid);
const char *gprop_api_type(int pid);
/* Help text (may be ""). */
const char *vmprop_help(const struct vm *vm, int pid);
/* Is the value the default (not explicitly set)? */
int	vmprop_is_default(const struct vm *vm, int pid);

/* Reads. */
int	vmprop_get(const struct vm *vm, int pid, char **out);
int	vmprop_default(const struct vm *vm, int pid, char **out);
int	gprop_get(int pid, char **out);
int	gprop_default(int pid, char **out);

/* Typed conveniences over vmprop_get/gprop_get. */
struct vm *vmprop_vm(const struct vm *vm, int pid);
int	vmprop_bool(const struct vm *vm, int pid);
long long vmprop_int(const struct vm *vm, int pid, long long dflt);
struct vm *gprop_vm(int pid);

/* Icon name of the qube's label: "appvm-<label>" (GetSystemInfo). */
const char *vm_label_name(const struct vm *vm);

/* Feature lookups of properties.md 7 / calls-core.md 4. */
const char *feature_check_with_template(const struct vm *vm, const char *f);
const char *feature_check_with_netvm(const struct vm *vm, const char *f);

/* Is `target` reachable through `vm`'s netvm chain, or vm itself? */
int	vm_connected_through(const struct vm *vm, const struct vm *target);
/* Is the qube referenced by a qube-valued property (value or default) of
 * any other qube or of the global object? */
int	vm_is_referenced(const struct vm *vm);

/* The Set / Reset semantics (API handlers call these, then commit). */
int	vmprop_set(struct call *c, struct reply *r, struct vm *vm, int pid,
	    const char *untrusted_value, size_t len);
int	vmprop_reset(struct call *c, struct reply *r, struct vm *vm, int pid);
int	gprop_set(struct call *c, struct reply *r, int pid,
	    const char *untrusted_value, size_t len);
int	gprop_reset(struct call *c, struct reply *r, int pid);

/* Serialisation of calls-core.md 0.3 ("default=.. type=.. value"). */
int	vmprop_serialize(const struct vm *vm, int pid, struct strbuf *sb);
int	gprop_serialize(int pid, struct strbuf *sb);

/* Python repr of a qube (properties.md 1.7). */
void	vm_debug_repr(const struct vm *vm, struct strbuf *sb);

/* Set / remove a feature with its pre- and post-events (the value is
 * stored between them; nothing happens on remove when absent). */
void	feature_set_ev(struct vm *vm, const char *f, const char *value);
void	feature_del_ev(struct vm *vm, const char *f);

/* Keep guivm-<x>/audiovm-<x> tags in line with the effective values. */
void	vm_update_gui_audio_tags(struct vm *vm, int emit);

#endif
