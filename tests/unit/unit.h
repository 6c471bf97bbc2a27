/*
 * unit.h - a tiny TAP harness for the C unit tests (header only).
 *
 * Each tests/unit/test_<module>.c is one program: it runs its case tables
 * through the checks below and ends main() with "return done_testing();".
 * Output is TAP on stdout: one "ok N - name" / "not ok N - name" line per
 * check, "# " diagnostics after a failure (file:line, got/expected), the
 * plan "1..N" at the end, then a last line "N passed, M failed".  The exit
 * status is 0 only if every check passed (and at least one ran).
 *
 *	ok(cond, fmt, ...)			cond is true
 *	is_int(got, want, fmt, ...)		integers (as long long) equal
 *	is_str(got, want, fmt, ...)		C strings equal (NULL-safe)
 *	is_mem(got, glen, want, wlen, fmt, ...)	byte strings equal, shown
 *						escaped on failure
 *	is_lit(got, glen, "lit", fmt, ...)	is_mem against a string
 *						literal, NULs included
 *	diag(fmt, ...)				a "# " line
 *	unit_q(p, len), unit_qs(s)		bytes as a quoted C literal
 *						for test names (static
 *						storage, 8 in rotation)
 *
 * Every check returns 1 on success and 0 on failure, so a test can stop
 * early ("if (!ok(...)) continue;").  State lives in statics of the one
 * translation unit that includes this header.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define UNIT_PRINTF(a, b) __attribute__((format(printf, a, b)))

static int unit_run;
static int unit_failed;

static inline void UNIT_PRINTF(1, 2)
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline int UNIT_PRINTF(4, 0)
unit_vreport(int pass, const char *file, int line, const char *fmt,
    va_list ap)
{
	unit_run++;
	if (!pass)
		unit_failed++;
	printf("%sok %d - ", pass ? "" : "not ", unit_run);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	if (!pass)
		diag("  Failed test at %s line %d.", file, line);
	return pass;
}

static inline int UNIT_PRINTF(4, 5)
unit_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	unit_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

static inline int UNIT_PRINTF(5, 6)
unit_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	unit_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		diag("         got: %lld", got);
		diag("    expected: %lld", want);
	}
	return pass;
}

/* Quote bytes as a C string literal, truncated; for test names. */
static inline const char *
unit_q(const void *p, size_t len)
{
	static char bufs[8][96];
	static unsigned next;
	const unsigned char *s = p;
	char *b = bufs[next++ % 8];
	size_t i, o = 0;

	if (p == NULL)
		return "NULL";
	b[o++] = '"';
	for (i = 0; i < len && o < sizeof(bufs[0]) - 8; i++) {
		if (s[i] == '\\' || s[i] == '"') {
			b[o++] = '\\';
			b[o++] = (char)s[i];
		} else if (s[i] >= 0x20 && s[i] < 0x7f) {
			b[o++] = (char)s[i];
		} else {
			o += (size_t)snprintf(b + o, 5, "\\x%02x", s[i]);
		}
	}
	if (i < len) {
		memcpy(b + o, "...", 3);
		o += 3;
	}
	b[o++] = '"';
	b[o] = '\0';
	return b;
}

static inline const char *
unit_qs(const char *s)
{
	return unit_q(s, s ? strlen(s) : 0);
}

/* Print bytes as a C string literal body, for diagnostics. */
static inline void
unit_show(const char *label, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	printf("# %12s: ", label);
	if (p == NULL) {
		fputs("NULL\n", stdout);
		return;
	}
	fputc('"', stdout);
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			printf("\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			fputc(s[i], stdout);
		else if (s[i] == '\n')
			fputs("\\n", stdout);
		else
			printf("\\x%02x", s[i]);
	}
	printf("\" (%zu bytes)\n", len);
}

static inline int UNIT_PRINTF(5, 6)
unit_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	unit_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		unit_show("got", got, got ? strlen(got) : 0);
		unit_show("expected", want, want ? strlen(want) : 0);
	}
	return pass;
}

static inline int UNIT_PRINTF(7, 8)
unit_is_mem(const void *got, size_t glen, const void *want, size_t wlen,
    const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want && glen == wlen;
	else
		pass = glen == wlen && memcmp(got, want, glen) == 0;
	va_start(ap, fmt);
	unit_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		unit_show("got", got, glen);
		unit_show("expected", want, wlen);
	}
	return pass;
}

/* The plan and the summary; the value to return from main(). */
static inline int
done_testing(void)
{
	printf("1..%d\n", unit_run);
	printf("%d passed, %d failed\n", unit_run - unit_failed, unit_failed);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return unit_failed > 0 || unit_run == 0;
}

#define ok(cond, ...) \
	unit_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	unit_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) \
	unit_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, glen, want, wlen, ...) \
	unit_is_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_lit(got, glen, lit, ...) \
	is_mem((got), (glen), (lit), sizeof(lit) - 1, __VA_ARGS__)

#endif
