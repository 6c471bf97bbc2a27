/*
 * volimport.h - the parts of the streaming import service
 * (services/qubes-admin-vm-volume-import.c, storage.md 7.9) that can be
 * tested on their own: the ImportWithSize size line, the ImportBegin
 * reply, the byte-exact copy into the import target, the ImportEnd
 * status and one request on a broker socket.
 *
 * Calling sequence of the service:
 *
 *  1. ImportWithSize only: volimport_read_line() reads the first line of
 *     stdin one byte at a time (never a byte past its '\n').
 *  2. volimport_call() sends internal.vm.volume.ImportBegin; an OK reply's
 *     body goes to volimport_parse_begin() -> size, path.
 *  3. volimport_copy_path() copies exactly size bytes of stdin to path
 *     (open without create/truncate, 128 KiB blocks of full reads,
 *     all-zero blocks seeked over, fdatasync) and checks for one byte
 *     too many; the outcome, in the reference's order of checks, is in a
 *     struct volimport_result.
 *  4. volimport_status() formats the ImportEnd payload ("ok" or
 *     "fail\n<reason>"), which volimport_call() sends.
 *
 * Nothing here exits, logs or allocates beyond its own buffers (the
 * copy's one block, the reply strbuf).  Bytes from stdin and the broker
 * are only looked at through the parsers below.
 */
#ifndef VOLIMPORT_H
#define VOLIMPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The size line: at most 20 bytes of 0x20-0x7e, then '\n' (qubesd-query
 * --single-line --max-bytes=21 in the reference). */
#define VOLIMPORT_LINE_MAX	21
/* Copy block (dd bs=128K). */
#define VOLIMPORT_BLOCK		(128u * 1024u)
/* Longest broker reply accepted (qubesd's replies here are tiny). */
#define VOLIMPORT_REPLY_MAX	(1024u * 1024u)

struct volimport_line {
	char	buf[VOLIMPORT_LINE_MAX];	/* without '\n', NUL-ended */
	size_t	len;
	size_t	seen;				/* bytes consumed */
	int	bad;				/* refused: final */
};

/*
 * Feed the next byte of the size line.  Returns 1 when c was the
 * terminating '\n' (l->buf holds the line), 0 if more bytes are needed,
 * -1 if the line is invalid (byte outside 0x20-0x7e, or no '\n' within
 * VOLIMPORT_LINE_MAX bytes).  Start from a zeroed struct.
 */
int	volimport_line_byte(struct volimport_line *l, unsigned char c);

/* Read the size line from fd one byte at a time.  0, or -1: invalid
 * line (errno EINVAL), end of input before '\n' (errno ENODATA), or the
 * read error. */
int	volimport_read_line(int fd, struct volimport_line *l);

/*
 * Parse the body of ImportBegin's OK reply (after "0\0"):
 * "<size> <path>", size as qubesd's validate_size() prints it (1-19
 * digits, no leading zero), one space, an absolute path of bytes other
 * than NUL, controls, DEL and space, shorter than pathlen.  Returns 0
 * and fills *size and path (NUL-terminated), or -1.
 */
int	volimport_parse_begin(const unsigned char *untrusted_body, size_t len,
	    uint64_t *size, char *path, size_t pathlen);

enum volimport_outcome {
	VOLIMPORT_OK,		/* exactly size bytes, then end of input */
	VOLIMPORT_COPY_ERROR,	/* "error copying data" */
	VOLIMPORT_SHORT,	/* "not enough data (copied N bytes, ...)" */
	VOLIMPORT_LONG,		/* "too much data (expected M bytes)" */
};

struct volimport_result {
	enum volimport_outcome	 outcome;
	uint64_t		 copied;	/* bytes taken from input */
	const char		*step;		/* failed step, for the log */
	int			 err;		/* its errno */
};

/*
 * Copy exactly size bytes from in to out (a fresh descriptor at offset
 * 0 of a zero-filled target of at least size bytes).  Never reads a byte
 * of in past size, except the one test byte for VOLIMPORT_LONG.  A set
 * *stop (signal handler; may be NULL) fails the copy at the next block
 * or interrupted read.
 */
void	volimport_copy_fd(int in, int out, uint64_t size,
	    const volatile sig_atomic_t *stop, struct volimport_result *res);

/*
 * Open path (O_WRONLY, no O_CREAT, no O_TRUNC; symlinks followed: LVM
 * paths are links), take a non-blocking exclusive flock(2) on it (a
 * second importer of the same target fails instead of mixing data; the
 * lock dies with the process, so a driver can tell a stale target from a
 * live one), then volimport_copy_fd().  Open or lock failures are copy
 * errors.
 */
void	volimport_copy_path(int in, const char *path, uint64_t size,
	    const volatile sig_atomic_t *stop, struct volimport_result *res);

/* ImportEnd payload for res into buf; returns its length (no NUL
 * counted), or 0 if it does not fit (128 bytes always do). */
size_t	volimport_status(const struct volimport_result *res, uint64_t size,
	    char *buf, size_t len);

/*
 * One request on the broker socket `path`: "method+arg src name
 * dest\0payload", half-close, reply read to EOF into *reply (at most
 * VOLIMPORT_REPLY_MAX bytes; the caller sb_init()s and frees it).
 * EINTR is retried.  Returns 0, or -1 with errno (connect, I/O, reply
 * too long: E2BIG).
 */
int	volimport_call(const char *path, const char *method, const char *arg,
	    const char *src, const char *dest, const void *payload,
	    size_t plen, struct strbuf *reply);

#endif
