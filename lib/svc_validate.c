/*
 * svc_validate.c - allow-lists of the service executables; see
 * svc_validate.h.
 */
#include <string.h>

#include "frame.h"
#include "pystrip.h"
#include "svc_validate.h"
#include "validate.h"

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* s[0..len) non-empty, every byte alphanumeric or in extra (no NUL). */
static int
span_ok(const char *s, size_t len, const char *extra)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' ||
		    (!is_alnum((unsigned char)s[i]) &&
		    strchr(extra, s[i]) == NULL))
			return 0;
	return 1;
}

int
validate_property_name(const char *s)
{
	if (!span_ok(s, strlen(s), "_"))
		return -1;
	return (s[0] >= '0' && s[0] <= '9') ? -1 : 0;
}

int
validate_feature_name(const char *s)
{
	return span_ok(s, strlen(s), "_.+-") ? 0 : -1;
}

int
validate_volume_name(const char *s)
{
	return span_ok(s, strlen(s), "_-") ? 0 : -1;
}

int
validate_driver_name(const char *s)
{
	return span_ok(s, strlen(s), "_-") ? 0 : -1;
}

int
validate_shutdown_flags(const char *s)
{
	const char *p = s, *plus;
	size_t n;

	if (*s == '\0')
		return 0;
	for (;;) {
		plus = strchr(p, '+');
		n = plus ? (size_t)(plus - p) : strlen(p);
		if (!((n == 5 && memcmp(p, "force", 5) == 0) ||
		    (n == 4 && memcmp(p, "wait", 4) == 0)))
			return -1;
		if (plus == NULL)
			return 0;
		p = plus + 1;
	}
}

int
validate_device_arg(const char *s)
{
	const char *plus = strchr(s, '+');
	char backend[32];
	const char *msg;
	size_t n;

	if (plus == NULL)
		return -1;
	n = (size_t)(plus - s);
	if (n == 0 || n >= sizeof(backend))
		return -1;
	memcpy(backend, s, n);
	backend[n] = '\0';
	if (validate_vm_name(backend, &msg) < 0)
		return -1;
	return span_ok(plus + 1, strlen(plus + 1), "_.+-") ? 0 : -1;
}

int
validate_profile_name(const char *s)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return -1;
	return span_ok(s, strlen(s), "_.+-") ? 0 : -1;
}

/* Index of a pool:<volume> volume, or -1. */
static int
create_volume(const char *v, size_t n)
{
	static const char *const vols[] = {
		"root", "private", "volatile", "kernel"
	};
	int i;

	for (i = 0; i < 4; i++)
		if (strlen(vols[i]) == n && memcmp(v, vols[i], n) == 0)
			return i;
	return -1;
}

int
validate_create_params(const char *p, size_t len, int in_pool,
    const char **why)
{
	const char *end = p + len, *sp, *eq;
	char label[256];
	size_t klen, vlen;
	int have_name = 0, have_label = 0, have_pool = 0, have_vol = 0;
	int vols[4] = { 0, 0, 0, 0 };
	int v;

	if (!frame_is_ascii(p, len) || memchr(p, '\0', len) != NULL) {
		*why = "Create parameters are not ASCII";
		return -1;
	}
	/* _vm_create: untrusted_payload.split(' '), each piece "k=v" */
	for (;;) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		eq = memchr(p, '=', (size_t)(sp - p));
		if (eq == NULL) {
			*why = "Create parameter without '=' (empty payload, "
			    "double or trailing space?)";
			return -1;
		}
		klen = (size_t)(eq - p);
		vlen = (size_t)(sp - eq - 1);
		if (klen == 4 && memcmp(p, "name", 4) == 0) {
			if (have_name++)
				goto dup;
		} else if (klen == 5 && memcmp(p, "label", 5) == 0) {
			if (have_label++)
				goto dup;
			if (vlen >= sizeof(label)) {
				*why = "Create label= value too long";
				return -1;
			}
			memcpy(label, eq + 1, vlen);
			label[vlen] = '\0';
			if (validate_label_name(label) < 0) {
				*why = "Create label= is not a label name "
				    "([A-Za-z0-9_.-], not all digits)";
				return -1;
			}
		} else if (in_pool && klen == 4 && memcmp(p, "pool", 4) == 0) {
			if (have_pool++)
				goto dup;
		} else if (in_pool && klen > 5 && memcmp(p, "pool:", 5) == 0) {
			v = create_volume(p + 5, klen - 5);
			if (v < 0) {
				*why = "Create pool:<volume> names no volume "
				    "(root, private, volatile, kernel)";
				return -1;
			}
			if (vols[v]++)
				goto dup;
			have_vol = 1;
		} else {
			*why = "unknown Create parameter";
			return -1;
		}
		if (sp == end)
			break;
		p = sp + 1;
	}
	if (!have_name || !have_label) {
		*why = "Create parameters lack name= or label=";
		return -1;
	}
	if (have_pool && have_vol) {
		*why = "Create parameters have both pool= and pool:<volume>=";
		return -1;
	}
	return 0;
dup:
	*why = "duplicated Create parameter";
	return -1;
}

static int
is_pystrip(unsigned char c)
{
	/* str.strip() on ASCII: \t\n\v\f\r, 0x1c-0x1f and space */
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c &&
	    c <= 0x1f);
}

int
validate_color_payload(const char *p, size_t len)
{
	if (!frame_is_ascii(p, len))
		return -1;
	while (len > 0 && is_pystrip((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len > 0 && is_pystrip((unsigned char)p[len - 1]))
		len--;
	return validate_color(p, len);
}

int
validate_update_count(const char *p, size_t len, int *nonzero)
{
	const unsigned char *d;
	size_t n, i;
	int nz = 0;

	d = pystrip_bytes((const unsigned char *)p, len, &n);
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -1;
		if (d[i] != '0')
			nz = 1;
	}
	if (n > SVC_UPDATE_COUNT_DIGITS)
		return -2;
	if (nonzero != NULL)
		*nonzero = nz;
	return 0;
}
