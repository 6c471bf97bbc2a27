/*
 * fuzz_validate.c - libFuzzer target for lib/validate.c.
 *
 * The input goes to every validator and parser: as a C string (cut at the
 * first NUL) to the string ones, as (pointer, length) to the others.  Each
 * result is compared with an independent formulation of its rule
 * (protocol.md 5.2/5.3, properties.md 1.4, qubesd validate_size()), and
 * successful number parses must print back to the input: parse_size()
 * exactly, parse_pyint() after Python's normalisation (whitespace, sign,
 * '_' and leading zeros dropped); parse_ipv4()/parse_uuid() outputs are
 * canonical and stable.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

#define CHECK(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

#define ALNUM	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		"0123456789"
#define DIGITS	"0123456789"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* every byte of s[0..len) is a non-NUL member of set */
static int
all_of(const char *s, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

static void
check_names(const char *s)
{
	static const char *const msgs[] = {
		"VM name must be shorter than 32 characters",
		"VM name contains illegal characters",
		"VM name cannot be 'Domain-0'",
		"VM name cannot be 'none' nor 'default'",
		"VM name cannot end with -dm",
	};
	const char *msg = NULL, *want;
	size_t len = strlen(s);
	int rc, digits_only;

	/* validate_name(), checks in order */
	if (len > 31)
		want = msgs[0];
	else if (len == 0 || strchr(ALNUM, s[0]) == NULL ||
	    strchr(DIGITS, s[0]) != NULL || !all_of(s, len, ALNUM "_-"))
		want = msgs[1];
	else if (strcmp(s, "Domain-0") == 0)
		want = msgs[2];
	else if (strcmp(s, "none") == 0 || strcmp(s, "default") == 0)
		want = msgs[3];
	else if (len >= 3 && memcmp(s + len - 3, "-dm", 3) == 0)
		want = msgs[4];
	else
		want = NULL;
	rc = validate_vm_name(s, &msg);
	CHECK(rc == (want ? -1 : 0));
	if (want != NULL)
		CHECK(msg != NULL && strcmp(msg, want) == 0);
	else
		CHECK(msg == NULL);

	digits_only = all_of(s, len, DIGITS);
	CHECK((validate_qube_ref(s) == 0) ==
	    (len >= 1 && len <= 31 && all_of(s, len, ALNUM "_.-")));
	CHECK((validate_tag(s) == 0) == all_of(s, len, ALNUM "_-"));
	CHECK((validate_label_name(s) == 0) ==
	    (all_of(s, len, ALNUM "_.-") && !(len > 0 && digits_only)));
	CHECK((validate_pool_name(s) == 0) ==
	    (len > 0 && all_of(s, len, ALNUM "_.-")));
	CHECK((validate_qrexec_arg(s) == 0) == all_of(s, len, ALNUM "_.+-"));

	/* a valid qube name passes every other name rule */
	if (rc == 0) {
		CHECK(validate_qube_ref(s) == 0);
		CHECK(validate_tag(s) == 0);
		CHECK(validate_label_name(s) == 0);
		CHECK(validate_pool_name(s) == 0);
		CHECK(validate_qrexec_arg(s) == 0);
	}
}

static void
check_bytes(const char *p, size_t len)
{
	size_t i;
	int printable = 1;

	CHECK((validate_color(p, len) == 0) == (len == 8 && p[0] == '0' &&
	    p[1] == 'x' && all_of(p + 2, 6, "0123456789abcdefABCDEF")));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 0x20 && c <= 0x7e) || (c >= 0x09 && c <= 0x0d)))
			printable = 0;
	}
	CHECK((validate_printable(p, len) == 0) == printable);
}

static void
check_size(const char *p, size_t len)
{
	char back[32];
	uint64_t v = 42;
	int rc, want;

	want = len >= 1 && len <= 19 && all_of(p, len, DIGITS) &&
	    !(p[0] == '0' && len > 1);
	rc = parse_size(p, len, &v);
	CHECK(rc == (want ? 0 : -1));
	if (rc == 0) {
		snprintf(back, sizeof(back), "%" PRIu64, v);
		CHECK(strlen(back) == len && memcmp(back, p, len) == 0);
	} else {
		CHECK(v == 42);
	}
}

static int
is_ws(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Python int(s): whitespace, sign, digits with single '_' between them.
 * Returns 0 if the syntax is valid, with the magnitude in digits (leading
 * zeros dropped, "0" for zero; *huge set if it does not fit) and the sign
 * in *neg.
 */
static int
pyint_syntax(const char *p, size_t len, char *digits, size_t dsize,
    int *neg, int *huge)
{
	size_t i = 0, end = len, nd = 0;
	int prev_digit = 0;

	*neg = *huge = 0;
	while (i < end && is_ws(p[i]))
		i++;
	while (end > i && is_ws(p[end - 1]))
		end--;
	if (i < end && (p[i] == '+' || p[i] == '-'))
		*neg = p[i++] == '-';
	if (i == end)
		return -1;
	for (; i < end; i++) {
		if (p[i] == '_') {
			if (!prev_digit || i + 1 == end)
				return -1;
			prev_digit = 0;
			continue;
		}
		if (p[i] < '0' || p[i] > '9')
			return -1;
		prev_digit = 1;
		if (nd == 0 && p[i] == '0')
			continue;
		if (nd + 1 < dsize)
			digits[nd++] = p[i];
		else
			*huge = 1;
	}
	if (nd == 0)
		digits[nd++] = '0';
	digits[nd] = '\0';
	return 0;
}

static void
check_pyint(const char *p, size_t len)
{
	char digits[64], want[32], back[32];
	const char *mag;
	int64_t v = 42;
	int neg, huge, syn, rc, fits;

	syn = pyint_syntax(p, len, digits, sizeof(digits), &neg, &huge);
	rc = parse_pyint(p, len, &v);
	if (syn != 0) {
		CHECK(rc == -1);
		CHECK(v == 42);
		return;
	}
	/* int64: at most 19 digits, compared as text with the bounds */
	mag = neg ? "9223372036854775808" : "9223372036854775807";
	fits = !huge && (strlen(digits) < 19 ||
	    (strlen(digits) == 19 && strcmp(digits, mag) <= 0));
	CHECK(rc == (fits ? 0 : -1));
	if (rc != 0) {
		CHECK(v == 42);
		return;
	}
	snprintf(want, sizeof(want), "%s%s",
	    neg && strcmp(digits, "0") != 0 ? "-" : "", digits);
	snprintf(back, sizeof(back), "%" PRId64, v);
	CHECK(strcmp(back, want) == 0);
}

/*
 * parse_ipv4(): accepts only the canonical form, so the output is the
 * input.  parse_uuid(): the output is canonical (36 bytes, lowercase hex,
 * hyphens at 8-13-18-23) and parses to itself.
 */
static void
check_addresses(const char *s)
{
	char out[64], again[64];
	size_t i;

	if (parse_ipv4(s, out, sizeof(out)) == 0)
		CHECK(strcmp(out, s) == 0);
	if (parse_uuid(s, out, sizeof(out)) == 0) {
		CHECK(strlen(out) == 36);
		for (i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				CHECK(out[i] == '-');
			else
				CHECK(strchr("0123456789abcdef", out[i]) !=
				    NULL && out[i] != '\0');
		}
		CHECK(parse_uuid(out, again, sizeof(again)) == 0);
		CHECK(strcmp(again, out) == 0);
		CHECK(parse_uuid(s, out, 36) == -1);	/* too small */
	}
}

static void
check_pybool(const char *s)
{
	static const char *const t[] = { "1", "yes", "true", "on" };
	static const char *const f[] = { "0", "no", "false", "off" };
	size_t i;
	int v = 42, want = -1, rc;

	for (i = 0; i < 4; i++) {
		if (strlen(s) == strlen(t[i]) &&
		    strncasecmp(s, t[i], strlen(s)) == 0)
			want = 1;
		if (strlen(s) == strlen(f[i]) &&
		    strncasecmp(s, f[i], strlen(s)) == 0)
			want = 0;
	}
	rc = parse_pybool(s, &v);
	CHECK(rc == (want >= 0 ? 0 : -1));
	CHECK(v == (want >= 0 ? want : 42));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *p;

	/* a copy each: exact length for (ptr, len), terminated for str */
	p = malloc(size ? size : 1);
	s = malloc(size + 1);
	if (p == NULL || s == NULL) {
		free(p);
		free(s);
		return 0;
	}
	if (size)
		memcpy(p, data, size);
	memcpy(s, data, size);
	s[size] = '\0';

	check_names(s);
	check_addresses(s);
	check_pybool(s);
	check_bytes(p, size);
	check_size(p, size);
	check_pyint(p, size);

	free(p);
	free(s);
	return 0;
}
