/*
 * api_handlers.h - every Admin API handler, one per call
 * (STYLE rule 2), plus the helpers handlers share.
 */
#ifndef API_HANDLERS_H
#define API_HANDLERS_H

#include <stddef.h>

#include "call.h"

struct vm;

/* api_vm.c */
int	api_vmclass_list(struct call *c, struct reply *r);
int	api_vm_list(struct call *c, struct reply *r);
int	api_vm_create(struct call *c, struct reply *r);
int	api_vm_createinpool(struct call *c, struct reply *r);
int	api_vm_remove(struct call *c, struct reply *r);
int	api_vm_currentstate(struct call *c, struct reply *r);
int	api_vm_createdisposable(struct call *c, struct reply *r);
/* api_vm_power.c */
int	api_vm_start(struct call *c, struct reply *r);
int	api_vm_shutdown(struct call *c, struct reply *r);
int	api_vm_pause(struct call *c, struct reply *r);
int	api_vm_unpause(struct call *c, struct reply *r);
int	api_vm_kill(struct call *c, struct reply *r);

/* api_vm_property.c */
int	api_vm_property_list(struct call *c, struct reply *r);
int	api_vm_property_get(struct call *c, struct reply *r);
int	api_vm_property_getall(struct call *c, struct reply *r);
int	api_vm_property_getdefault(struct call *c, struct reply *r);
int	api_vm_property_help(struct call *c, struct reply *r);
int	api_vm_property_set(struct call *c, struct reply *r);
int	api_vm_property_reset(struct call *c, struct reply *r);
int	api_property_list(struct call *c, struct reply *r);
int	api_property_get(struct call *c, struct reply *r);
int	api_property_getall(struct call *c, struct reply *r);
int	api_property_getdefault(struct call *c, struct reply *r);
int	api_property_help(struct call *c, struct reply *r);
int	api_property_set(struct call *c, struct reply *r);
int	api_property_reset(struct call *c, struct reply *r);

/* api_vm_feature.c */
int	api_vm_feature_list(struct call *c, struct reply *r);
int	api_vm_feature_get(struct call *c, struct reply *r);
int	api_vm_feature_checkwithtemplate(struct call *c, struct reply *r);
int	api_vm_feature_checkwithnetvm(struct call *c, struct reply *r);
int	api_vm_feature_checkwithadminvm(struct call *c, struct reply *r);
int	api_vm_feature_checkwithtemplateandadminvm(struct call *c,
	    struct reply *r);
int	api_vm_feature_set(struct call *c, struct reply *r);
int	api_vm_feature_remove(struct call *c, struct reply *r);

/* api_vm_tag.c */
int	api_vm_tag_list(struct call *c, struct reply *r);
int	api_vm_tag_get(struct call *c, struct reply *r);
int	api_vm_tag_set(struct call *c, struct reply *r);
int	api_vm_tag_remove(struct call *c, struct reply *r);
/* Check that adding `tag` (created-by-*) can fully succeed. */
int	tag_add_check(struct reply *r, const char *tag);
/* Add a tag with its reactions and events; 1 if newly added. */
int	tag_add(struct vm *vm, const char *tag);

/* api_label.c */
int	api_label_list(struct call *c, struct reply *r);
int	api_label_get(struct call *c, struct reply *r);
int	api_label_index(struct call *c, struct reply *r);
int	api_label_create(struct call *c, struct reply *r);
int	api_label_remove(struct call *c, struct reply *r);

/* api_vm_volume_data.c */
int	api_vm_volume_revert(struct call *c, struct reply *r);
int	api_vm_volume_resize(struct call *c, struct reply *r);
int	api_vm_volume_clear(struct call *c, struct reply *r);
int	api_vm_volume_clonefrom(struct call *c, struct reply *r);
int	api_vm_volume_cloneto(struct call *c, struct reply *r);
int	api_internal_vm_volume_importbegin(struct call *c, struct reply *r);
int	api_internal_vm_volume_importend(struct call *c, struct reply *r);

/* api_pool.c */
int	api_pool_list(struct call *c, struct reply *r);
int	api_pool_listdrivers(struct call *c, struct reply *r);
int	api_pool_info(struct call *c, struct reply *r);
int	api_pool_usagedetails(struct call *c, struct reply *r);
int	api_pool_add(struct call *c, struct reply *r);
int	api_pool_remove(struct call *c, struct reply *r);
int	api_pool_volume_list(struct call *c, struct reply *r);
int	api_pool_set_revisions_to_keep(struct call *c, struct reply *r);
int	api_pool_set_ephemeral_volatile(struct call *c, struct reply *r);

/* api_vm_volume.c */
int	api_vm_volume_list(struct call *c, struct reply *r);
int	api_vm_volume_info(struct call *c, struct reply *r);
int	api_vm_volume_listsnapshots(struct call *c, struct reply *r);
int	api_vm_volume_set_revisions_to_keep(struct call *c, struct reply *r);
int	api_vm_volume_set_rw(struct call *c, struct reply *r);
int	api_vm_volume_set_ephemeral(struct call *c, struct reply *r);

/* api_events.c */
int	api_events(struct call *c, struct reply *r);
int	api_vm_stats(struct call *c, struct reply *r);
/*
 * Should a subscriber (caller src, stream dest) see this event?
 * Exclusions, the per-qube stream and the policy filter of non-dom0
 * callers (calls-core.md 9, protocol.md 4.3).
 */
int	events_filter(const char *src, const char *dest, const char *subject,
	    const char *event, const char *const *kv, size_t nkv);

/* api_internal.c */
int	api_internal_getsysteminfo(struct call *c, struct reply *r);

/* api_misc.c */
int	api_misc_featuresrequest(struct call *c, struct reply *r);
int	api_misc_notifytools(struct call *c, struct reply *r);
int	api_misc_notifyupdates(struct call *c, struct reply *r);

#endif
