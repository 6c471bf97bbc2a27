/*
 * handlers.c - method name -> handler.  Every row of lib/api/<family>.def with
 * impl=1 must have an entry here and vice versa (checked by
 * tests/unit/test_handlers.c).
 */
#include <string.h>

#include "api_handlers.h"
#include "dispatch.h"

static const struct {
	const char	*name;
	api_handler	 fn;
} handlers[] = {
	{ "admin.vmclass.List", api_vmclass_list },
	{ "admin.vm.List", api_vm_list },
	{ "admin.vm.Create.AdminVM", api_vm_create },
	{ "admin.vm.Create.AppVM", api_vm_create },
	{ "admin.vm.Create.DispVM", api_vm_create },
	{ "admin.vm.Create.StandaloneVM", api_vm_create },
	{ "admin.vm.Create.TemplateVM", api_vm_create },
	{ "admin.vm.CreateInPool.AdminVM", api_vm_createinpool },
	{ "admin.vm.CreateInPool.AppVM", api_vm_createinpool },
	{ "admin.vm.CreateInPool.DispVM", api_vm_createinpool },
	{ "admin.vm.CreateInPool.StandaloneVM", api_vm_createinpool },
	{ "admin.vm.CreateInPool.TemplateVM", api_vm_createinpool },
	{ "admin.vm.Remove", api_vm_remove },
	{ "admin.vm.CurrentState", api_vm_currentstate },
	{ "admin.vm.CreateDisposable", api_vm_createdisposable },
	{ "admin.vm.Start", api_vm_start },
	{ "admin.vm.Shutdown", api_vm_shutdown },
	{ "admin.vm.Pause", api_vm_pause },
	{ "admin.vm.Unpause", api_vm_unpause },
	{ "admin.vm.Kill", api_vm_kill },
	{ "admin.vm.property.List", api_vm_property_list },
	{ "admin.vm.property.Get", api_vm_property_get },
	{ "admin.vm.property.GetAll", api_vm_property_getall },
	{ "admin.vm.property.GetDefault", api_vm_property_getdefault },
	{ "admin.vm.property.Help", api_vm_property_help },
	{ "admin.vm.property.Set", api_vm_property_set },
	{ "admin.vm.property.Reset", api_vm_property_reset },
	{ "admin.property.List", api_property_list },
	{ "admin.property.Get", api_property_get },
	{ "admin.property.GetAll", api_property_getall },
	{ "admin.property.GetDefault", api_property_getdefault },
	{ "admin.property.Help", api_property_help },
	{ "admin.property.Set", api_property_set },
	{ "admin.property.Reset", api_property_reset },
	{ "admin.vm.feature.List", api_vm_feature_list },
	{ "admin.vm.feature.Get", api_vm_feature_get },
	{ "admin.vm.feature.CheckWithTemplate",
	    api_vm_feature_checkwithtemplate },
	{ "admin.vm.feature.CheckWithNetvm", api_vm_feature_checkwithnetvm },
	{ "admin.vm.feature.CheckWithAdminVM",
	    api_vm_feature_checkwithadminvm },
	{ "admin.vm.feature.CheckWithTemplateAndAdminVM",
	    api_vm_feature_checkwithtemplateandadminvm },
	{ "admin.vm.feature.Set", api_vm_feature_set },
	{ "admin.vm.feature.Remove", api_vm_feature_remove },
	{ "admin.vm.tag.List", api_vm_tag_list },
	{ "admin.vm.tag.Get", api_vm_tag_get },
	{ "admin.vm.tag.Set", api_vm_tag_set },
	{ "admin.vm.tag.Remove", api_vm_tag_remove },
	{ "admin.label.List", api_label_list },
	{ "admin.label.Get", api_label_get },
	{ "admin.label.Index", api_label_index },
	{ "admin.label.Create", api_label_create },
	{ "admin.label.Remove", api_label_remove },
	{ "internal.GetSystemInfo", api_internal_getsysteminfo },
	{ "admin.Events", api_events },
	{ "admin.vm.Stats", api_vm_stats },
	{ "admin.pool.List", api_pool_list },
	{ "admin.pool.ListDrivers", api_pool_listdrivers },
	{ "admin.pool.Info", api_pool_info },
	{ "admin.pool.UsageDetails", api_pool_usagedetails },
	{ "admin.pool.Add", api_pool_add },
	{ "admin.pool.Remove", api_pool_remove },
	{ "admin.pool.volume.List", api_pool_volume_list },
	{ "admin.pool.Set.revisions_to_keep", api_pool_set_revisions_to_keep },
	{ "admin.pool.Set.ephemeral_volatile",
	    api_pool_set_ephemeral_volatile },
	{ "admin.vm.volume.List", api_vm_volume_list },
	{ "admin.vm.volume.Info", api_vm_volume_info },
	{ "admin.vm.volume.ListSnapshots", api_vm_volume_listsnapshots },
	{ "admin.vm.volume.Set.revisions_to_keep",
	    api_vm_volume_set_revisions_to_keep },
	{ "admin.vm.volume.Set.rw", api_vm_volume_set_rw },
	{ "admin.vm.volume.Set.ephemeral", api_vm_volume_set_ephemeral },
	{ "admin.vm.volume.Revert", api_vm_volume_revert },
	{ "admin.vm.volume.Resize", api_vm_volume_resize },
	{ "admin.vm.volume.Clear", api_vm_volume_clear },
	{ "admin.vm.volume.CloneFrom", api_vm_volume_clonefrom },
	{ "admin.vm.volume.CloneTo", api_vm_volume_cloneto },
	{ "internal.vm.volume.ImportBegin",
	    api_internal_vm_volume_importbegin },
	{ "internal.vm.volume.ImportEnd", api_internal_vm_volume_importend },
	{ "qubes.FeaturesRequest", api_misc_featuresrequest },
	{ "qubes.NotifyTools", api_misc_notifytools },
	{ "qubes.NotifyUpdates", api_misc_notifyupdates },
};

api_handler
handler_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].name, name) == 0)
			return handlers[i].fn;
	return NULL;
}

const char *
handler_name(size_t i)
{
	if (i >= sizeof(handlers) / sizeof(handlers[0]))
		return NULL;
	return handlers[i].name;
}
