/*
 * validate.c - allow-lists and strict parsers for untrusted fields.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
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
	/*
	 * What int() strips from an ASCII str: \t\n\v\f\r and space
	 * (Py_ISSPACE).  Not str.isspace(), which also has 0x1c-0x1f:
	 * int("\x1c12") is a ValueError in Python 3.11.
	 */
	return (c >= 0x09 && c <= 0x0d) || c == 0x20;
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

int
parse_ipv4(const char *s, char *out, size_t outlen)
{
	unsigned oct[4];
	int i, nd;
	unsigned v;

	/* ipaddress.IPv4Address: 4 decimal octets, no leading zeros */
	for (i = 0; i < 4; i++) {
		v = 0;
		nd = 0;
		if (s[0] == '0' && is_digit(s[1]))
			return -1;
		while (is_digit(*s)) {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++nd > 3 || v > 255)
				return -1;
		}
		if (nd == 0)
			return -1;
		oct[i] = v;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s != '\0')
		return -1;
	if ((size_t)snprintf(out, outlen, "%u.%u.%u.%u", oct[0], oct[1],
	    oct[2], oct[3]) >= outlen)
		return -1;
	return 0;
}

int
parse_uuid(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	char d[32];
	size_t n = 0, len, i, o = 0;

	/* uuid.UUID(str): strip "urn:", "uuid:", braces and hyphens */
	if (strncmp(s, "urn:", 4) == 0)
		s += 4;
	if (strncmp(s, "uuid:", 5) == 0)
		s += 5;
	len = strlen(s);
	while (len > 0 && (*s == '{')) {
		s++;
		len--;
	}
	while (len > 0 && s[len - 1] == '}')
		len--;
	for (i = 0; i < len; i++) {
		if (s[i] == '-')
			continue;
		if (!isxdigit((unsigned char)s[i]) || n == 32)
			return -1;
		d[n++] = (char)tolower((unsigned char)s[i]);
	}
	if (n != 32 || outlen < 37)
		return -1;
	for (i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[strchr(hex, d[i]) - hex];
	}
	out[o] = '\0';
	return 0;
}
