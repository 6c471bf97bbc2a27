/*
 * fuzz_qubesxml.c - the qubes.xml loader (broker/persist.c) on arbitrary
 * bytes.  Invariants: a successful load has a dom0, every qube's name is
 * unique, and serialising the model and loading that again succeeds with
 * the same number of qubes (STYLE rule 18).
 *
 * FUZZ_SOURCES: broker/api_internal.c broker/api_label.c broker/api_vm.c
 * FUZZ_SOURCES: broker/api_vm_feature.c broker/api_vm_property.c
 * FUZZ_SOURCES: broker/api_vm_tag.c broker/dispatch.c broker/events.c
 * FUZZ_SOURCES: broker/handlers.c broker/hook.c broker/model.c
 * FUZZ_SOURCES: broker/persist.c broker/props.c broker/props_set.c
 * FUZZ_SOURCES: broker/sysinfo.c broker/util.c broker/virt.c
 * FUZZ_SOURCES: broker/volconfig.c
 * FUZZ_SOURCES: broker/api_pool.c broker/api_vm_volume.c broker/poolcfg.c
 * FUZZ_SOURCES: broker/api_vm_volume_data.c broker/clonetok.c
 * FUZZ_SOURCES: broker/storage.c broker/storage_file.c
 * FUZZ_SOURCES: broker/storage_kernel.c broker/storage_lvm.c
 * FUZZ_SOURCES: broker/storage_reflink.c broker/api_events.c
 * FUZZ_SOURCES: broker/api_vm_power.c broker/domxml.c broker/storage_run.c
 * FUZZ_SOURCES: broker/worker.c
 * FUZZ_SOURCES: broker/api_misc.c broker/qdb.c
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "model.h"
#include "persist.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err;
	struct app *a = NULL, *b = NULL;
	char *out = NULL;
	size_t outlen, i, j;
	static int quiet;

	if (!quiet) {
		log_set_quiet(1);
		quiet = 1;
	}
	sb_init(&err, 0);
	if (persist_load_mem((const char *)data, size, "/nonexistent", &a,
	    &err) == 0) {
		assert(app_dom0(a) != NULL);
		for (i = 0; i < a->nvms; i++)
			for (j = i + 1; j < a->nvms; j++)
				assert(strcmp(a->vms[i]->name,
				    a->vms[j]->name) != 0);
		assert(persist_serialize(a, &out, &outlen) == 0);
		sb_reset(&err);
		assert(persist_load_mem(out, outlen, "/nonexistent", &b,
		    &err) == 0);
		assert(b->nvms == a->nvms);
	}
	free(out);
	app_free(a);
	app_free(b);
	persist_cleanup();
	sb_free(&err);
	return 0;
}
