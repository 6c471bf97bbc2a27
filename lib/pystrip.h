/*
 * pystrip.h - Python's argument-less strip() on request payloads, in its
 * two flavours, which differ in what they call whitespace:
 *
 *	pystrip_str()	str.strip() of an ASCII-decoded payload
 *			(qubesd: untrusted_payload.decode('ascii').strip()):
 *			\t \n \v \f \r, 0x1c-0x1f (FS GS RS US) and space
 *	pystrip_bytes()	bytes.strip() of the raw payload
 *			(qubesd: untrusted_payload.strip()):
 *			\t \n \v \f \r and space only
 *
 * Both work on (pointer, length), never allocate and never look past len
 * bytes; a NUL is not whitespace and stays.  They return the start of the
 * stripped span and store its length in *outlen (0 for an all-whitespace
 * or empty input; the returned pointer is then p + len).  Checking that
 * the payload is ASCII (a UnicodeDecodeError, i.e. a silent close, in
 * qubesd) is the caller's job and comes first.
 */
#ifndef PYSTRIP_H
#define PYSTRIP_H

#include <stddef.h>

const unsigned char *pystrip_str(const unsigned char *p, size_t len,
	    size_t *outlen);
const unsigned char *pystrip_bytes(const unsigned char *p, size_t len,
	    size_t *outlen);

/* The classes themselves (unit tests, fuzzing). */
int	pystrip_is_str_space(unsigned char c);
int	pystrip_is_bytes_space(unsigned char c);

#endif
