/*
 * log.h - the one logging API.
 *
 * Lines go to stderr as "<prog>[pid]: <func>: message".  log_warn appends
 * strerror(errno).  fatal/fatalx log and exit(1); only main() and start-up
 * code may call them.  Untrusted strings must go through log_escape()
 * first: it copies at most `max` bytes, turning every byte outside
 * 0x20-0x7e into "\xNN".
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *prog, int debug);
void	log_set_quiet(int quiet);
void	log_msg(int level, const char *func, int with_errno,
	    const char *fmt, ...) PRINTF_LIKE(4, 5);
void	fatal_msg(const char *func, int with_errno, const char *fmt, ...)
	    PRINTF_LIKE(3, 4) __attribute__((noreturn));

/* Escape untrusted bytes for a log line into dst (size dstlen). */
const char *log_escape(char *dst, size_t dstlen, const void *src, size_t len);

#define LOG_DEBUG	3
#define LOG_INFO	2
#define LOG_WARN	1

#define log_warn(...)	log_msg(LOG_WARN, __func__, 1, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_WARN, __func__, 0, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __func__, 0, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __func__, 0, __VA_ARGS__)
#define fatal(...)	fatal_msg(__func__, 1, __VA_ARGS__)
#define fatalx(...)	fatal_msg(__func__, 0, __VA_ARGS__)

#endif
