/*
 * util.c - small helpers of the broker.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "model.h"
#include "strbuf.h"
#include "util.h"

char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		fatalx("out of memory");
	return d;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

int
same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (realpath(a, ra) == NULL || realpath(b, rb) == NULL)
		return strcmp(a, b) == 0;
	return strcmp(ra, rb) == 0;
}

char *
kernel_dir(const char *kernel)
{
	struct strbuf sb;
	const char *dir = NULL, *drv;
	size_t i;

	for (i = 0; i < app->npools; i++) {
		drv = kvl_get(&app->pools[i], "driver");
		if (drv != NULL && strcmp(drv, "linux-kernel") == 0) {
			dir = kvl_get(&app->pools[i], "dir_path");
			break;
		}
	}
	sb_init(&sb, 0);
	if (dir != NULL)
		sb_addf(&sb, "%s/%s", dir, kernel);
	else
		sb_addf(&sb, "%s/vm-kernels/%s", app->base_dir, kernel);
	return sb_steal(&sb);
}

static const char *run_dir = "/var/run";

const char *
broker_run_dir(void)
{
	return run_dir;
}

void
broker_set_run_dir(const char *dir)
{
	run_dir = dir;
}
