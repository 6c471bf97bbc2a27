/*
 * validate.c - allow-lists and strict parsers for untrusted fields.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
all_in(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!is_alpha(*s) && !is_digit(*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

int
validate_vm_name(const char *s, const char **msg)
{
	size_t len = strlen(s);

	/* same order as qubes.vm.validate_name */
	if (len > 31) {
		*msg = "VM name must be shorter than 32 characters";
		return -1;
	}
	if (len == 0 || !is_alpha(s[0]) || !all_in(s, "_-")) {
		*msg = "VM name contains illegal characters";
		return -1;
	}
	if (strcmp(s, "Domain-0") == 0) {
		*msg = "VM name cannot be 'Domain-0'";
		return -1;
	}
	if (strcmp(s, "none") == 0 || strcmp(s, "default") == 0) {
		*msg = "VM name cannot be 'none' nor 'default'";
		return -1;
	}
	if (len >= 3 && strcmp(s + len - 3, "-dm") == 0) {
		*msg = "VM name cannot end with -dm";
		return -1;
	}
	return 0;
}

int
validate_qube_ref(const char *s)
{
	size_t len = strlen(s);

	return (len >= 1 && len <= 31 && all_in(s, "_.-")) ? 0 : -1;
}

int
validate_tag(const char *s)
{
	return all_in(s, "_-") ? 0 : -1;
}

int
validate_label_name(const char *s)
{
	const char *p;
	int digits = 1;

	if (!all_in(s, "_.-"))
		return -1;
	for (p = s; *p; p++)
		if (!is_digit(*p))
			digits = 0;
	/* Python ''.isdigit() is False: the empty name passes */
	if (*s && digits)
		return -1;
	return 0;
}

int
validate_color(const char *s, size_t len)
{
	size_t i;

	if (len != 8 || s[0] != '0' || s[1] != 'x')
		return -1;
	for (i = 2; i < 8; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	return 0;
}

int
validate_pool_name(const char *s)
{
	return (*s && all_in(s, "_.-")) ? 0 : -1;
}

int
validate_qrexec_arg(const char *s)
{
	return all_in(s, "_.+-") ? 0 : -1;
}

int
validate_printable(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!((c >= 0x20 && c <= 0x7e) || (c >= 0x09 && c <= 0x0d)))
			return -1;
	}
	return 0;
}

int
parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len >= 20)
		return -1;
	if (s[0] == '0' && len > 1)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');	/* < 10^19: no overflow */
	}
	*out = v;
	return 0;
}

static int
is_pyspace(unsigned char c)
{
	/* str.isspace() for ASCII: \t\n\v\f\r, 0x1c-0x1f, space */
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
}

int
parse_pyint(const char *s, size_t len, int64_t *out)
{
	size_t i = 0, end = len;
	int neg = 0, ndigits = 0, prev_us = 0;
	uint64_t v = 0, lim;

	while (i < end && is_pyspace((unsigned char)s[i]))
		i++;
	while (end > i && is_pyspace((unsigned char)s[end - 1]))
		end--;
	if (i < end && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < end; i++) {
		if (s[i] == '_') {
			/* single underscore, only between digits */
			if (ndigits == 0 || prev_us)
				return -1;
			prev_us = 1;
			continue;
		}
		if (!is_digit(s[i]))
			return -1;
		prev_us = 0;
		ndigits++;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (ndigits == 0 || prev_us)
		return -1;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int
parse_pybool(const char *s, int *out)
{
	static const char *const t[] = { "1", "yes", "true", "on" };
	static const char *const f[] = { "0", "no", "false", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, t[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}
