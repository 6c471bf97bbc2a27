/*
 * validate.h - allow-lists per field kind, and the strict number parsers.
 *
 * Every function takes a NUL-terminated candidate (the caller proved
 * termination) and returns 0 if it is valid, -1 otherwise.  Where qubesd
 * reports a specific message the function sets *msg to that static string.
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Qube name (protocol.md 5.2); *msg gets the QubesValueError message. */
int	validate_vm_name(const char *s, const char **msg);
/* Syntactic qube name for request fields: 1..31 chars of [A-Za-z0-9_.-]. */
int	validate_qube_ref(const char *s);
/* Tag: [A-Za-z0-9_-]* (empty accepted, as qubesd 4.2). */
int	validate_tag(const char *s);
/* Label name: [A-Za-z0-9_.-]*, not all digits. */
int	validate_label_name(const char *s);
/* Label colour: "0x" + 6 hex digits. */
int	validate_color(const char *s, size_t len);
/* Pool name: [A-Za-z0-9_.-]+. */
int	validate_pool_name(const char *s);
/* qrexec argument / service charset: [A-Za-z0-9_.+-]*. */
int	validate_qrexec_arg(const char *s);
/* Python string.printable (0x20-0x7e, 0x09-0x0d). */
int	validate_printable(const char *s, size_t len);

/*
 * qubesd validate_size(): ASCII digits only, fewer than 20 of them, no
 * leading zero unless the value is "0".  Stores the value in *out.
 */
int	parse_size(const char *s, size_t len, uint64_t *out);

/*
 * Python int(str) for the property setter: optional surrounding
 * whitespace, optional sign, decimal digits with single '_' between
 * digits.  Values outside int64 are refused (qubesd accepts bignums).
 */
int	parse_pyint(const char *s, size_t len, int64_t *out);

/* qubes.property.bool(): 1/0, yes/no, true/false, on/off, any case. */
int	parse_pybool(const char *s, int *out);

/* ipaddress.IPv4Address(): dotted quad, no leading zeros; canonical out. */
int	parse_ipv4(const char *s, char *out, size_t outlen);
/* uuid.UUID(str); canonical lowercase 8-4-4-4-12 out (outlen >= 37). */
int	parse_uuid(const char *s, char *out, size_t outlen);

#endif
