/*
 * atomicfile.c - temp file + fsync + rename + directory fsync
 * (qubes.app.Qubes.save, virFileRewrite, redis rdbSave).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "ioall.h"

const char *atomicfile_fail_at;

static int
injected(const char *step)
{
	if (atomicfile_fail_at != NULL && strcmp(atomicfile_fail_at, step) == 0) {
		errno = EIO;
		return 1;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, r = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		r = fsync(fd);
		close(fd);
	}
	free(copy);
	return r;
}

int
atomicfile_write(const char *path, const void *data, size_t len, mode_t mode,
    gid_t gid, struct stat *st_out, const char **step)
{
	char *tmp = NULL;
	int fd = -1, saved;
	size_t plen = strlen(path);

	*step = "create";
	tmp = malloc(plen + 8);
	if (tmp == NULL)
		goto err;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, "~XXXXXX", 8);
	if (injected("create"))
		goto err;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto err;
	*step = "write";
	if (injected("write") || write_all(fd, data, len) < 0)
		goto err;
	*step = "chmod";
	if (fchmod(fd, mode) < 0)
		goto err;
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)
		goto err;
	*step = "fsync";
	if (injected("fsync") || fsync(fd) < 0)
		goto err;
	*step = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto err;
	}
	fd = -1;
	*step = "rename";
	if (injected("rename") || rename(tmp, path) < 0)
		goto err;
	free(tmp);
	tmp = NULL;
	*step = "fsync directory";
	if (fsync_dir_of(path) < 0)
		return -1;	/* the new content is in place */
	if (st_out != NULL && stat(path, st_out) < 0)
		return -1;
	*step = NULL;
	return 0;
err:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	errno = saved;
	return -1;
}
