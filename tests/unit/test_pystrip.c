/*
 * test_pystrip.c - lib/pystrip.c against Python's str.strip() and
 * bytes.strip() (the tables were checked with CPython 3.11:
 * '\x1c12\x1f'.strip() == '12', b'\x1c12'.strip() == b'\x1c12').
 */
#include <string.h>

#include "pystrip.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct strip_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*str;		/* str.strip() result */
	size_t		 slen;
	const char	*bytes;		/* bytes.strip() result */
	size_t		 blen;
};

#define C(n, in, s, b)	{ n, in, sizeof(in) - 1, s, sizeof(s) - 1, b, \
			  sizeof(b) - 1 }

static const struct strip_case cases[] = {
	C("empty", "", "", ""),
	C("nothing to strip", "abc", "abc", "abc"),
	C("newline", "4096\n", "4096", "4096"),
	C("both ends", " \t\n\v\f\rx y\r\n ", "x y", "x y"),
	C("only whitespace", " \n\t ", "", ""),
	C("FS..US", "\x1c\x1dtok\x1e\x1f", "tok", "\x1c\x1dtok\x1e\x1f"),
	C("FS inside", "a\x1c" "b", "a\x1c" "b", "a\x1c" "b"),
	C("NUL is not whitespace", "\0a\0", "\0a\0", "\0a\0"),
	C("NUL behind a space", " \0 ", "\0", "\0"),
	C("DEL is not whitespace", "\x7f" "a ", "\x7f" "a", "\x7f" "a"),
	C("0x1b is not whitespace", "\x1b" "a", "\x1b" "a", "\x1b" "a"),
	C("0x21 is not whitespace", "!a!", "!a!", "!a!"),
	C("high bytes stay", "\xa0x\x85", "\xa0x\x85", "\xa0x\x85"),
};

int
main(void)
{
	const struct strip_case *c;
	const unsigned char *p;
	size_t i, n;
	unsigned b;

	for (i = 0; i < NELEM(cases); i++) {
		c = &cases[i];
		p = pystrip_str((const unsigned char *)c->in, c->len, &n);
		is_mem(p, n, c->str, c->slen, "str %s", c->name);
		ok(p >= (const unsigned char *)c->in &&
		    p + n <= (const unsigned char *)c->in + c->len,
		    "str %s: inside the input", c->name);
		p = pystrip_bytes((const unsigned char *)c->in, c->len, &n);
		is_mem(p, n, c->bytes, c->blen, "bytes %s", c->name);
	}
	/* the classes, byte by byte */
	for (b = 0; b < 256; b++) {
		int s = (b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x20);
		int y = (b >= 0x09 && b <= 0x0d) || b == 0x20;

		if (pystrip_is_str_space((unsigned char)b) != s)
			ok(0, "str space class of 0x%02x", b);
		if (pystrip_is_bytes_space((unsigned char)b) != y)
			ok(0, "bytes space class of 0x%02x", b);
	}
	ok(1, "whitespace classes of all 256 bytes");
	return done_testing();
}
