/*
 * util.h - small helpers of the broker.
 *
 * The x* allocators abort the broker on out-of-memory (one log line):
 * the broker cannot answer anything sensible without memory, and a
 * half-done change is worse than a restart (systemd restarts it).
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

char	*xstrdup(const char *s);
void	*xcalloc(size_t n, size_t size);
/* Do two directory paths name the same directory (after realpath)? */
int	same_dir(const char *a, const char *b);
/* Directory of an installed kernel (linux-kernel pool dir or
 * <base>/vm-kernels), malloc'd. */
char	*kernel_dir(const char *kernel);
/* The broker's run directory (--run-dir, default /var/run): its sockets,
 * and <run>/qubes/ with the per-qube qrexec and qubesdb sockets. */
const char *broker_run_dir(void);
void	broker_set_run_dir(const char *dir);

#endif
