/*
 * test_storage.c - the file helpers of broker/storage.c (sparse_create,
 * file_usage, mkdir_p, storage_vm_dir) on a temporary directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage.h"
#include "unit.h"

static char root[PATH_MAX];

static const char *
P(const char *rel)
{
	static char b[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(b[i], sizeof(b[i]), "%.4000s/%s", root, rel);
	return b[i];
}

static long long
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void
test_sparse(void)
{
	struct stat st;
	int fd;

	ok(sparse_create(P("a.img"), 1ULL << 30, 0) == 0, "sparse 1 GiB");
	is_int(fsize(P("a.img")), 1LL << 30, "size exact");
	ok(file_usage(P("a.img")) <= 4096, "no data blocks");
	ok(stat(P("a.img"), &st) == 0 && (st.st_mode & 07777) == 0664,
	    "mode 0664 whatever the umask");
	errno = 0;
	ok(sparse_create(P("a.img"), 10, 0) == -1 && errno == EEXIST,
	    "existing file: EEXIST");
	is_int(fsize(P("a.img")), 1LL << 30, "existing file untouched");
	/* replace: a new inode, a hardlinked partner keeps its data */
	fd = open(P("data"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, "abcd", 4) == 4, "data file");
	close(fd);
	ok(link(P("data"), P("link.img")) == 0, "hardlink");
	ok(sparse_create(P("link.img"), 8192, 1) == 0, "replace");
	is_int(fsize(P("link.img")), 8192, "replaced size");
	is_int(fsize(P("data")), 4, "hardlink partner intact");
	ok(file_usage(P("data")) > 0, "usage of a file with data");
	is_int((long long)file_usage(P("missing")), 0, "usage of nothing");
	ok(sparse_create(P("zero.img"), 0, 0) == 0 &&
	    fsize(P("zero.img")) == 0, "empty file");
	ok(sparse_create(P("nodir/x.img"), 1, 0) == -1 && errno == ENOENT,
	    "no parent directory");
	ok(sparse_create(P("huge.img"), 1ULL << 63, 0) == -1 &&
	    errno == EFBIG, "beyond off_t: EFBIG");
}

static void
test_mkdir(void)
{
	struct stat st;

	ok(mkdir_p(P("d1/d2//d3/")) == 0, "mkdir_p nested");
	ok(stat(P("d1/d2/d3"), &st) == 0 && S_ISDIR(st.st_mode), "exists");
	ok(mkdir_p(P("d1/d2/d3")) == 0, "mkdir_p again");
	ok(mkdir_p(P("data/x")) == -1 && errno == ENOTDIR, "file in the way");
	ok(mkdir_p(P("data")) == -1 && errno == ENOTDIR, "file itself");
	ok(mkdir_p("") == -1, "empty path");
}

static void
test_vm_dir(void)
{
	struct kvlist pool;
	struct vm *vm;
	char buf[PATH_MAX];

	memset(&pool, 0, sizeof(pool));
	kvl_set(&pool, "name", "p");
	kvl_set(&pool, "driver", "file");
	vm = vm_new(VMC_APP, "work", 5);
	ok(storage_vm_dir(&pool, vm, buf, sizeof(buf)) == -1,
	    "no dir_path");
	kvl_set(&pool, "dir_path", "/var/lib/qubes");
	ok(storage_vm_dir(&pool, vm, buf, sizeof(buf)) == 0, "appvm dir");
	is_str(buf, "/var/lib/qubes/appvms/work", "appvms/<name>");
	vm->cls = VMC_TEMPLATE;
	storage_vm_dir(&pool, vm, buf, sizeof(buf));
	is_str(buf, "/var/lib/qubes/vm-templates/work", "vm-templates/<name>");
	ok(storage_vm_dir(&pool, vm, buf, 10) == -1, "too long");
	vm_free(vm);
	kvl_free(&pool);
}

int
main(void)
{
	char cmd[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/test_storage.XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_sparse();
	test_mkdir();
	test_vm_dir();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		diag("could not remove %s", root);
	return done_testing();
}
