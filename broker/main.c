/*
 * main.c - qubes-broker: a drop-in for qubesd's Admin API sockets.
 *
 * qubes-broker --base-dir DIR --run-dir DIR [--libvirt-uri URI]
 *              [--policy-dir DIR] [--debug] [--init]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "atomicfile.h"
#include "control.h"
#include "hook.h"
#include "log.h"
#include "model.h"
#include "persist.h"
#include "strbuf.h"
#include "util.h"
#include "virt.h"
#include "worker.h"

static void
usage(void)
{
	fprintf(stderr, "usage: qubes-broker [--base-dir DIR] [--run-dir DIR] "
	    "[--libvirt-uri URI]\n"
	    "                    [--policy-dir DIR] [--debug] [--init]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base-dir", required_argument, NULL, 'b' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "libvirt-uri", required_argument, NULL, 'l' },
		{ "policy-dir", required_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'd' },
		{ "init", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = "/var/lib/qubes", *run = "/var/run";
	const char *uri = "xen:///", *policy = "/etc/qubes/policy.d";
	int debug = 0, init = 0, ch, rc;
	struct strbuf path, err;
	struct stat st;
	uint64_t mem;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			base = optarg;
			break;
		case 'r':
			run = optarg;
			break;
		case 'l':
			uri = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'i':
			init = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("qubes-broker", debug);
	xmlInitParser();
	/* test hook: make one step of every qubes.xml write fail */
	atomicfile_fail_at = getenv("QUBES_BROKER_FAIL_WRITE_AT");

	sb_init(&path, 0);
	sb_addf(&path, "%s/qubes.xml", base);
	sb_init(&err, 0);
	if (init && stat(path.buf, &st) < 0 && errno == ENOENT) {
		if (mkdir(base, 0775) < 0 && errno != EEXIST)
			fatal("mkdir %s", base);
		if (persist_create(path.buf, base, &err) < 0)
			fatalx("cannot create %s: %s", path.buf, err.buf);
		log_info("created %s", path.buf);
	}
	if (persist_load(path.buf, base, &app, &err) < 0)
		fatalx("cannot load %s: %s", path.buf, err.buf);
	sb_free(&path);
	/* test hook: a slow libvirt (seconds before every operation) */
	if (getenv("QUBES_BROKER_VIRT_DELAY") != NULL)
		virt_delay = strtod(getenv("QUBES_BROKER_VIRT_DELAY"), NULL);
	/* from here on the model is guarded by its lock (worker.h) */
	model_threads();
	if (virt_open(uri) == 0 && (mem = virt_host_mem_kib()) != 0)
		app->host_mem_kib = mem;
	/* admin.vm.List filtering for non-dom0 callers (protocol.md 4.3) */
	if (hook_policy_init(policy) < 0)
		fatal("policy filter");
	broker_set_run_dir(run);
	if (control_listen(run) < 0)
		fatalx("cannot create the sockets in %s", run);
	log_info("listening in %s", run);
	rc = control_loop();
	if (control_cleanup() < 0)
		_exit(1);	/* workers still hold the model */
	hook_cleanup();
	/* the event thread takes the lock: let it finish */
	model_unlock_quiet();
	virt_close();
	app_free(app);
	app = NULL;
	persist_cleanup();
	sb_free(&err);
	xmlCleanupParser();
	return rc == 0 ? 0 : 1;
}
