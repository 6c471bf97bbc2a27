/*
 * pystrip.c - str.strip() / bytes.strip() on payloads; see pystrip.h.
 */
#include "pystrip.h"

int
pystrip_is_str_space(unsigned char c)
{
	/* Py_UNICODE_ISSPACE restricted to ASCII */
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
}

int
pystrip_is_bytes_space(unsigned char c)
{
	/* Py_ISSPACE: bytes.isspace() */
	return (c >= 0x09 && c <= 0x0d) || c == 0x20;
}

static const unsigned char *
strip(const unsigned char *p, size_t len, size_t *outlen,
    int (*is_space)(unsigned char))
{
	while (len > 0 && is_space(*p)) {
		p++;
		len--;
	}
	while (len > 0 && is_space(p[len - 1]))
		len--;
	*outlen = len;
	return p;
}

const unsigned char *
pystrip_str(const unsigned char *p, size_t len, size_t *outlen)
{
	return strip(p, len, outlen, pystrip_is_str_space);
}

const unsigned char *
pystrip_bytes(const unsigned char *p, size_t len, size_t *outlen)
{
	return strip(p, len, outlen, pystrip_is_bytes_space);
}
