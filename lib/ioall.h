/*
 * ioall.h - whole reads and writes with EINTR and short I/O handled.
 */
#ifndef IOALL_H
#define IOALL_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf; 0 or -1 with errno. */
int	write_all(int fd, const void *buf, size_t len);
/*
 * Read until EOF but never more than max bytes.  Returns 0 and a malloc'd
 * buffer (caller frees; NUL-terminated, NUL not counted) or -1: errno
 * E2BIG when the input has more than max bytes, else the read error.
 */
int	read_all_bounded(int fd, size_t max, char **out, size_t *outlen);
/* Connect a stream socket to a UNIX path; fd or -1 with errno. */
int	unix_connect(const char *path);

#endif
