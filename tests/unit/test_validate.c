/*
 * test_validate.c - case tables for lib/validate.c (protocol.md 5.2, 5.3;
 * properties.md 1.4; qubesd validate_size(); Python ipaddress and uuid).
 */
#include <stdint.h>
#include <string.h>

#include "validate.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define MSG_LEN		"VM name must be shorter than 32 characters"
#define MSG_CHARS	"VM name contains illegal characters"
#define MSG_DOM0	"VM name cannot be 'Domain-0'"
#define MSG_NONE	"VM name cannot be 'none' nor 'default'"
#define MSG_DM		"VM name cannot end with -dm"

static const struct {
	const char	*in;
	const char	*msg;		/* NULL: valid */
} vm_name_cases[] = {
	{ "work", NULL },
	{ "dom0", NULL },
	{ "a", NULL },
	{ "Z", NULL },
	{ "sys-net", NULL },
	{ "my_vm-2", NULL },
	{ "domain-0", NULL },			/* case-sensitive */
	{ "Domain-00", NULL },
	{ "None", NULL },
	{ "Default", NULL },
	{ "nonE", NULL },
	{ "dm", NULL },
	{ "workdm", NULL },
	{ "work-DM", NULL },
	{ "work-dm-x", NULL },
	/* length first: 31 is fine, 32 is not, whatever the characters */
	{ "abcdefghijklmnopqrstuvwxyz01234", NULL },
	{ "abcdefghijklmnopqrstuvwxyz012345", MSG_LEN },
	{ "1bcdefghijklmnopqrstuvwxyz01234.", MSG_LEN },
	{ "abcdefghijklmnopqrstuvwxyz0123-dm", MSG_LEN },
	{ "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
	    MSG_LEN },
	/* ^[a-zA-Z][a-zA-Z0-9_-]*$ (\A...\Z: no trailing newline either) */
	{ "", MSG_CHARS },
	{ "1work", MSG_CHARS },
	{ "0", MSG_CHARS },
	{ "-work", MSG_CHARS },
	{ "_work", MSG_CHARS },
	{ "-dm", MSG_CHARS },
	{ "wo.rk", MSG_CHARS },
	{ "work.", MSG_CHARS },
	{ "lost+found", MSG_CHARS },
	{ "a+b", MSG_CHARS },
	{ "wo rk", MSG_CHARS },
	{ "work ", MSG_CHARS },
	{ "wo\trk", MSG_CHARS },
	{ "work\n", MSG_CHARS },
	{ "w\xc3\xb6rk", MSG_CHARS },
	{ "work/x", MSG_CHARS },
	{ "@adminvm", MSG_CHARS },
	{ "uuid:0", MSG_CHARS },
	{ "1bcdefghijklmnopqrstuvwxyz01234", MSG_CHARS },	/* 31 */
	/* then the reserved names, in this order */
	{ "Domain-0", MSG_DOM0 },
	{ "none", MSG_NONE },
	{ "default", MSG_NONE },
	{ "work-dm", MSG_DM },
	{ "a-dm", MSG_DM },
	{ "Domain-0-dm", MSG_DM },
	{ "abcdefghijklmnopqrstuvwxyz01-dm", MSG_DM },		/* 31 */
};

static const struct {
	const char	*in;
	int		 rc;
} qube_ref_cases[] = {
	{ "dom0", 0 },
	{ "a.b", 0 },
	{ "1abc", 0 },
	{ "-", 0 },
	{ "abcdefghijklmnopqrstuvwxyz01234", 0 },
	{ "abcdefghijklmnopqrstuvwxyz012345", -1 },
	{ "", -1 },
	{ "a b", -1 },
	{ "a+b", -1 },
	{ "@adminvm", -1 },
	{ "w\xc3\xb6rk", -1 },
};

static const struct {
	const char	*in;
	int		 rc;
} tag_cases[] = {
	{ "", 0 },				/* accepted by qubesd 4.2 */
	{ "a", 0 },
	{ "created-by-dom0", 0 },
	{ "A_b-9", 0 },
	{ "123", 0 },
	{ "-", 0 },
	{ "_", 0 },
	{ "a.b", -1 },
	{ "a b", -1 },
	{ "a+b", -1 },
	{ "a:b", -1 },
	{ "a/b", -1 },
	{ "a\n", -1 },
	{ "\xc3\xa9", -1 },
};

static const struct {
	const char	*in;
	int		 rc;
} label_cases[] = {
	{ "", 0 },				/* ''.isdigit() is False */
	{ "red", 0 },
	{ "my.label_1-x", 0 },
	{ "1a", 0 },
	{ "1.2", 0 },
	{ "a1", 0 },
	{ ".", 0 },
	{ "1", -1 },				/* all digits */
	{ "123", -1 },
	{ "007", -1 },
	{ "a b", -1 },
	{ "a+b", -1 },
	{ "a/b", -1 },
	{ "a\n", -1 },
	{ "\xc3\xa9", -1 },
};

static const struct {
	const char	*in;
	size_t		 len;
	int		 rc;
} color_cases[] = {
	{ "0xcc0000", 8, 0 },
	{ "0xABCDEF", 8, 0 },
	{ "0xAbCdEf", 8, 0 },
	{ "0x000000", 8, 0 },
	{ "0x123456", 8, 0 },
	{ "0Xcc0000", 8, -1 },
	{ "cc000000", 8, -1 },
	{ "1xcc0000", 8, -1 },
	{ "0xcc000", 7, -1 },
	{ "0xcc00000", 9, -1 },
	{ "0xcc0000\n", 9, -1 },		/* stripping is the caller's */
	{ "0xgg0000", 8, -1 },
	{ "0x cc000", 8, -1 },
	{ "0x-12345", 8, -1 },
	{ "0x+12345", 8, -1 },
	{ "0xcc\0" "000", 8, -1 },
	{ "", 0, -1 },
	{ "0x", 2, -1 },
};

static const struct {
	const char	*in;
	int		 rc;
} pool_cases[] = {
	{ "default", 0 },
	{ "varlibqubes", 0 },
	{ "lvm.pool_1-x", 0 },
	{ "123", 0 },
	{ ".", 0 },
	{ "", -1 },
	{ "a b", -1 },
	{ "a/b", -1 },
	{ "a+b", -1 },
	{ "a:b", -1 },
	{ "\xc3\xa9", -1 },
};

static const struct {
	const char	*in;
	int		 rc;
} qrexec_arg_cases[] = {
	{ "", 0 },
	{ "label", 0 },
	{ "force+wait", 0 },
	{ "+", 0 },
	{ "a.b_c-d", 0 },
	{ "a b", -1 },
	{ "a/b", -1 },
	{ "a:b", -1 },
	{ "@adminvm", -1 },
};

static const struct {
	const char	*in;
	size_t		 len;
	int		 rc;
} printable_cases[] = {
	{ "", 0, 0 },
	{ "hello world", 11, 0 },
	{ "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", 32, 0 },
	{ "\t\n\v\f\r", 5, 0 },
	{ " ", 1, 0 },
	{ "\x08", 1, -1 },
	{ "\x0e", 1, -1 },
	{ "\x1f", 1, -1 },
	{ "\x7f", 1, -1 },
	{ "\x80", 1, -1 },
	{ "\xff", 1, -1 },
	{ "a\0b", 3, -1 },			/* NUL is not printable */
	{ "abc\x1b[0m", 7, -1 },
};

static const struct {
	const char	*in;
	size_t		 len;
	int		 rc;
	uint64_t	 val;
} size_cases[] = {
	{ "0", 1, 0, 0 },
	{ "1", 1, 0, 1 },
	{ "512", 3, 0, 512 },
	{ "2147483648", 10, 0, 2147483648ULL },
	{ "1000000000000000000", 19, 0, 1000000000000000000ULL },
	{ "9999999999999999999", 19, 0, 9999999999999999999ULL },
	{ "10000000000000000000", 20, -1, 0 },	/* 20 digits */
	{ "18446744073709551615", 20, -1, 0 },
	{ "99999999999999999999", 20, -1, 0 },
	{ "01", 2, -1, 0 },			/* leading zero */
	{ "00", 2, -1, 0 },
	{ "0000000000000000001", 19, -1, 0 },
	{ "", 0, -1, 0 },
	{ " 1", 2, -1, 0 },
	{ "1 ", 2, -1, 0 },
	{ "1\n", 2, -1, 0 },
	{ "+1", 2, -1, 0 },
	{ "-1", 2, -1, 0 },
	{ "1_000", 5, -1, 0 },
	{ "0x10", 4, -1, 0 },
	{ "1a", 2, -1, 0 },
	{ "a", 1, -1, 0 },
	{ "1\0", 2, -1, 0 },
	{ "1\0" "2", 3, -1, 0 },
	{ "\xd9\xa3", 2, -1, 0 },		/* Arabic-Indic digit three */
};

static const struct {
	const char	*in;
	size_t		 len;
	int		 rc;
	int64_t		 val;
} pyint_cases[] = {
	{ "512", 3, 0, 512 },
	{ " 512\n", 5, 0, 512 },
	{ "\t\n\v\f\r 7 \r\n\v\f\t", 13, 0, 7 },
	{ "+512", 4, 0, 512 },
	{ "-5", 2, 0, -5 },
	{ "-0", 2, 0, 0 },
	{ "+0", 2, 0, 0 },
	{ "007", 3, 0, 7 },			/* int() allows leading zeros */
	{ "000000000000000000000000000001", 30, 0, 1 },
	{ "1_000", 5, 0, 1000 },
	{ "1_0_0", 5, 0, 100 },
	{ "0_0", 3, 0, 0 },
	{ "-1_0", 4, 0, -10 },
	{ "9223372036854775807", 19, 0, INT64_MAX },
	{ " 9223372036854775807 ", 21, 0, INT64_MAX },
	{ "-9223372036854775808", 20, 0, INT64_MIN },
	{ "-0009223372036854775808", 23, 0, INT64_MIN },
	{ "9223372036854775808", 19, -1, 0 },	/* int64 overflow */
	{ "-9223372036854775809", 20, -1, 0 },
	{ "99999999999999999999", 20, -1, 0 },
	{ "18446744073709551616", 20, -1, 0 },
	{ "1__0", 4, -1, 0 },
	{ "_1", 2, -1, 0 },
	{ "1_", 2, -1, 0 },
	{ "+_1", 3, -1, 0 },
	{ "-_1", 3, -1, 0 },
	{ "_", 1, -1, 0 },
	{ "", 0, -1, 0 },
	{ " ", 1, -1, 0 },
	{ "\n\t", 2, -1, 0 },
	{ "+", 1, -1, 0 },
	{ "-", 1, -1, 0 },
	{ "+-1", 3, -1, 0 },
	{ "--1", 3, -1, 0 },
	{ "- 1", 3, -1, 0 },
	{ "1 2", 3, -1, 0 },
	{ "abc", 3, -1, 0 },
	{ "0x10", 4, -1, 0 },
	{ "1e3", 3, -1, 0 },
	{ "1.0", 3, -1, 0 },
	/* int() in Python 3.11 strips only \t\n\v\f\r and space here */
	{ "\x1c" "12", 3, -1, 0 },
	{ "12\x1f", 3, -1, 0 },
	{ "\x85" "12", 3, -1, 0 },
	/* explicit length: a NUL is a character, not an end */
	{ "12\0", 3, -1, 0 },
	{ "1\0" "2", 3, -1, 0 },
	{ "\0" "12", 3, -1, 0 },
	{ "12\0" "34", 2, 0, 12 },		/* only len bytes are read */
};

/* ipaddress.IPv4Address(); the output is the canonical form */
static const struct {
	const char	*in;
	int		 rc;
} ipv4_cases[] = {
	{ "10.139.1.1", 0 },
	{ "0.0.0.0", 0 },
	{ "255.255.255.255", 0 },
	{ "1.2.3.0", 0 },
	{ "256.1.1.1", -1 },
	{ "1000.1.1.1", -1 },
	{ "01.2.3.4", -1 },			/* no leading zeros */
	{ "1.2.3.04", -1 },
	{ "1.2.3", -1 },
	{ "1.2.3.4.5", -1 },
	{ "1..3.4", -1 },
	{ "1.2.3.4 ", -1 },
	{ " 1.2.3.4", -1 },
	{ "1.2.3.4\n", -1 },
	{ "+1.2.3.4", -1 },
	{ "1.2.3.-4", -1 },
	{ "a.b.c.d", -1 },
	{ "", -1 },
};

/* uuid.UUID(str): canonical lowercase 8-4-4-4-12 out */
#define UUID_C	"12345678-1234-5678-1234-567812345678"
static const struct {
	const char	*in;
	const char	*out;		/* NULL: refused */
} uuid_cases[] = {
	{ UUID_C, UUID_C },
	{ "12345678123456781234567812345678", UUID_C },
	{ "{12345678-1234-5678-1234-567812345678}", UUID_C },
	{ "{{12345678123456781234567812345678}}", UUID_C },
	{ "urn:uuid:12345678-1234-5678-1234-567812345678", UUID_C },
	{ "uuid:12345678123456781234567812345678", UUID_C },
	{ "1234567-81234-5678-1234-567812345678", UUID_C },
	{ "-------12345678123456781234567812345678", UUID_C },
	{ "ABCDEF00-1234-5678-1234-567812345678",
	    "abcdef00-1234-5678-1234-567812345678" },
	{ "12345678-1234-5678-1234-56781234567", NULL },
	{ "12345678-1234-5678-1234-5678123456789", NULL },
	{ "g2345678-1234-5678-1234-567812345678", NULL },
	{ "12345678-1234-5678-1234-567812345678 ", NULL },
	{ "", NULL },
};

static const struct {
	const char	*in;
	int		 rc;
	int		 val;
} pybool_cases[] = {
	{ "1", 0, 1 },
	{ "yes", 0, 1 },
	{ "true", 0, 1 },
	{ "on", 0, 1 },
	{ "TRUE", 0, 1 },
	{ "YeS", 0, 1 },
	{ "oN", 0, 1 },
	{ "0", 0, 0 },
	{ "no", 0, 0 },
	{ "false", 0, 0 },
	{ "off", 0, 0 },
	{ "False", 0, 0 },
	{ "OFF", 0, 0 },
	{ "", -1, 0 },
	{ " true", -1, 0 },
	{ "true\n", -1, 0 },
	{ "2", -1, 0 },
	{ "01", -1, 0 },
	{ "y", -1, 0 },
	{ "t", -1, 0 },
	{ "tru", -1, 0 },
	{ "truee", -1, 0 },
	{ "None", -1, 0 },
	{ "enabled", -1, 0 },
};

static void
test_vm_name(void)
{
	const char *msg;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(vm_name_cases); i++) {
		msg = NULL;
		rc = validate_vm_name(vm_name_cases[i].in, &msg);
		is_int(rc, vm_name_cases[i].msg ? -1 : 0,
		    "validate_vm_name(%s) rc",
		    unit_qs(vm_name_cases[i].in));
		is_str(msg, vm_name_cases[i].msg,
		    "validate_vm_name(%s) message",
		    unit_qs(vm_name_cases[i].in));
	}
}

static void
test_simple_validators(void)
{
	size_t i;

	for (i = 0; i < NELEM(qube_ref_cases); i++)
		is_int(validate_qube_ref(qube_ref_cases[i].in),
		    qube_ref_cases[i].rc, "validate_qube_ref(%s)",
		    unit_qs(qube_ref_cases[i].in));
	for (i = 0; i < NELEM(tag_cases); i++)
		is_int(validate_tag(tag_cases[i].in), tag_cases[i].rc,
		    "validate_tag(%s)", unit_qs(tag_cases[i].in));
	for (i = 0; i < NELEM(label_cases); i++)
		is_int(validate_label_name(label_cases[i].in),
		    label_cases[i].rc, "validate_label_name(%s)",
		    unit_qs(label_cases[i].in));
	for (i = 0; i < NELEM(color_cases); i++)
		is_int(validate_color(color_cases[i].in, color_cases[i].len),
		    color_cases[i].rc, "validate_color(%s)",
		    unit_q(color_cases[i].in, color_cases[i].len));
	for (i = 0; i < NELEM(pool_cases); i++)
		is_int(validate_pool_name(pool_cases[i].in), pool_cases[i].rc,
		    "validate_pool_name(%s)",
		    unit_qs(pool_cases[i].in));
	for (i = 0; i < NELEM(qrexec_arg_cases); i++)
		is_int(validate_qrexec_arg(qrexec_arg_cases[i].in),
		    qrexec_arg_cases[i].rc, "validate_qrexec_arg(%s)",
		    unit_qs(qrexec_arg_cases[i].in));
	for (i = 0; i < NELEM(printable_cases); i++)
		is_int(validate_printable(printable_cases[i].in,
		    printable_cases[i].len), printable_cases[i].rc,
		    "validate_printable(%s)",
		    unit_q(printable_cases[i].in, printable_cases[i].len));
}

static void
test_numbers(void)
{
	uint64_t u;
	int64_t v;
	size_t i;
	int b, rc;

	for (i = 0; i < NELEM(size_cases); i++) {
		u = 0xdeadbeef;
		rc = parse_size(size_cases[i].in, size_cases[i].len, &u);
		is_int(rc, size_cases[i].rc, "parse_size(%s) rc",
		    unit_q(size_cases[i].in, size_cases[i].len));
		if (rc == 0)
			ok(u == size_cases[i].val, "parse_size(%s) value",
			    unit_q(size_cases[i].in, size_cases[i].len));
		else
			ok(u == 0xdeadbeef, "parse_size(%s) out untouched",
			    unit_q(size_cases[i].in, size_cases[i].len));
	}
	for (i = 0; i < NELEM(pyint_cases); i++) {
		v = 0x5eed;
		rc = parse_pyint(pyint_cases[i].in, pyint_cases[i].len, &v);
		is_int(rc, pyint_cases[i].rc, "parse_pyint(%s) rc",
		    unit_q(pyint_cases[i].in, pyint_cases[i].len));
		if (rc == 0)
			is_int(v, pyint_cases[i].val, "parse_pyint(%s) value",
			    unit_q(pyint_cases[i].in, pyint_cases[i].len));
		else
			is_int(v, 0x5eed, "parse_pyint(%s) out untouched",
			    unit_q(pyint_cases[i].in, pyint_cases[i].len));
	}
	for (i = 0; i < NELEM(pybool_cases); i++) {
		b = 42;
		rc = parse_pybool(pybool_cases[i].in, &b);
		is_int(rc, pybool_cases[i].rc, "parse_pybool(%s) rc",
		    unit_qs(pybool_cases[i].in));
		is_int(b, rc == 0 ? pybool_cases[i].val : 42,
		    "parse_pybool(%s) value",
		    unit_qs(pybool_cases[i].in));
	}
}

static void
test_addresses(void)
{
	char out[40];
	size_t i;
	int rc;

	for (i = 0; i < NELEM(ipv4_cases); i++) {
		memset(out, 'X', sizeof(out));
		rc = parse_ipv4(ipv4_cases[i].in, out, sizeof(out));
		is_int(rc, ipv4_cases[i].rc, "parse_ipv4(%s)",
		    unit_qs(ipv4_cases[i].in));
		if (rc == 0)
			is_str(out, ipv4_cases[i].in, "  canonical out");
	}
	is_int(parse_ipv4("255.255.255.255", out, 15), -1,
	    "parse_ipv4 with a short buffer");
	for (i = 0; i < NELEM(uuid_cases); i++) {
		memset(out, 'X', sizeof(out));
		rc = parse_uuid(uuid_cases[i].in, out, sizeof(out));
		is_int(rc, uuid_cases[i].out ? 0 : -1, "parse_uuid(%s)",
		    unit_qs(uuid_cases[i].in));
		if (rc == 0 && uuid_cases[i].out != NULL)
			is_str(out, uuid_cases[i].out, "  canonical out");
	}
	is_int(parse_uuid(UUID_C, out, 36), -1, "parse_uuid, short buffer");
}

int
main(void)
{
	test_vm_name();
	test_simple_validators();
	test_numbers();
	test_addresses();
	return done_testing();
}
