/*
 * atomicfile.h - the only way this project replaces a file.
 *
 * atomicfile_write() writes `data` to a fresh "<path>~XXXXXX" in the same
 * directory (created O_EXCL), sets mode and (when gid != -1) group,
 * fsyncs it, renames it over `path` and fsyncs the directory.  On any
 * error before the rename the temporary file is removed and the old file
 * is untouched; the function returns -1 with errno set and *step naming
 * the failed step ("create", "write", "fsync", "rename", ...).  Readers
 * therefore always see the old or the new content, never a mix.
 *
 * Fault injection (tests): atomicfile_fail_at names one step that fails
 * with EIO; NULL (the default) disables it.
 */
#ifndef ATOMICFILE_H
#define ATOMICFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

extern const char *atomicfile_fail_at;

int	atomicfile_write(const char *path, const void *data, size_t len,
	    mode_t mode, gid_t gid, struct stat *st_out, const char **step);

#endif
