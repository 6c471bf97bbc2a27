/*
 * test_strbuf.c - lib/strbuf.c: the hard cap, termination, ownership, and
 * sb_add_pyrepr() against Python repr() of an ASCII str (protocol.md 11).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "unit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define B(s)		s, sizeof(s) - 1

static void
test_cap(void)
{
	struct strbuf sb;
	char *p;

	sb_init(&sb, 0);
	is_int(sb.cap, SB_DEFAULT_CAP, "cap 0 means the default cap");
	ok(sb.buf == NULL && sb.len == 0 && sb_ok(&sb), "init: empty, ok");
	sb_free(&sb);
	sb_free(&sb);
	ok(1, "sb_free of an unused buffer, twice");

	sb_init(&sb, 10);
	is_int(sb_add(&sb, "0123456789", 10), 0, "add up to the cap");
	is_int(sb.len, 10, "  len 10");
	ok(sb.buf[10] == '\0', "  NUL-terminated after the content");
	is_int(sb_addc(&sb, 'x'), -1, "one byte over the cap fails");
	is_int(sb.err, E2BIG, "  err is E2BIG");
	ok(!sb_ok(&sb), "  sb_ok is false");
	is_int(sb.len, 10, "  content unchanged");
	is_str(sb.buf, "0123456789", "  content intact");
	is_int(sb_add(&sb, "", 0), -1, "after an error even empty adds fail");
	is_int(sb_adds(&sb, "y"), -1, "  sb_adds too");
	is_int(sb_addf(&sb, "%d", 1), -1, "  sb_addf too");
	is_int(sb_add_pyrepr(&sb, "z"), -1, "  sb_add_pyrepr too");
	is_int(sb.len, 10, "  len still 10");
	sb_reset(&sb);
	ok(sb_ok(&sb) && sb.len == 0 && sb.buf[0] == '\0',
	    "sb_reset clears content and error");
	is_int(sb_adds(&sb, "abc"), 0, "  usable again");
	sb_free(&sb);

	/* a failing append leaves no partial content */
	sb_init(&sb, 8);
	sb_adds(&sb, "abcde");
	is_int(sb_adds(&sb, "fghi"), -1, "append crossing the cap fails");
	is_str(sb.buf, "abcde", "  whole, nothing partial");
	sb_free(&sb);

	sb_init(&sb, 5);
	is_int(sb_addf(&sb, "%s", "12345"), 0, "sb_addf exactly to the cap");
	is_str(sb.buf, "12345", "  content");
	sb_free(&sb);
	sb_init(&sb, 4);
	is_int(sb_addf(&sb, "%s-%d", "ab", 12), -1, "sb_addf over the cap");
	is_int(sb.len, 0, "  nothing written");
	ok(sb.buf == NULL || sb.buf[0] == '\0', "  still terminated");
	sb_free(&sb);

	/* sizes that would overflow are refused, not wrapped */
	sb_init(&sb, 100);
	sb_adds(&sb, "abc");
	is_int(sb_add(&sb, "x", SIZE_MAX), -1, "len SIZE_MAX refused");
	is_int(sb.len, 3, "  len unchanged");
	sb_free(&sb);
	sb_init(&sb, SIZE_MAX);
	sb_adds(&sb, "abc");
	is_int(sb_add(&sb, "x", SIZE_MAX - 1), -1,
	    "len SIZE_MAX - 1 with cap SIZE_MAX refused");
	sb_free(&sb);

	/* growth keeps content and termination */
	sb_init(&sb, 100000);
	for (int i = 0; i < 10000; i++)
		sb_addc(&sb, (char)('a' + i % 26));
	ok(sb_ok(&sb) && sb.len == 10000 && sb.buf[10000] == '\0' &&
	    sb.buf[9999] == 'a' + 9999 % 26, "10000 single-byte appends");
	sb_free(&sb);

	/* embedded NULs are content */
	sb_init(&sb, 0);
	sb_add(&sb, B("a\0b"));
	is_lit(sb.buf, sb.len, "a\0b", "NUL inside the content");
	sb_add(&sb, NULL, 0);
	is_int(sb.len, 3, "adding (NULL, 0) is a no-op");

	/* steal hands over the storage and resets */
	p = sb_steal(&sb);
	is_lit(p, 3, "a\0b", "sb_steal returns the content");
	ok(sb.buf == NULL && sb.len == 0, "  and empties the buffer");
	free(p);
	p = sb_steal(&sb);
	ok(p != NULL && p[0] == '\0', "sb_steal of an empty buffer gives \"\"");
	free(p);
	sb_adds(&sb, "again");
	is_str(sb.buf, "again", "usable after sb_steal");
	sb_free(&sb);
}

static void
test_addf(void)
{
	struct strbuf sb;

	sb_init(&sb, 0);
	sb_addf(&sb, "%s=%d", "vcpus", 2);
	sb_addc(&sb, ' ');
	sb_addf(&sb, "%s", "");
	sb_addf(&sb, "%05u|%-3s|%x", 42u, "a", 255u);
	is_str(sb.buf, "vcpus=2 00042|a  |ff", "sb_addf formats and appends");
	sb_free(&sb);
}

static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} repr_cases[] = {
	{ B("abc"), "'abc'" },
	{ B(""), "''" },
	{ B("nonexist"), "'nonexist'" },
	{ B("a b"), "'a b'" },
	/* quote choice: ' unless there is a ' and no " */
	{ B("it's"), "\"it's\"" },
	{ B("'"), "\"'\"" },
	{ B("say \"hi\""), "'say \"hi\"'" },
	{ B("\""), "'\"'" },
	{ B("both ' and \""), "'both \\' and \"'" },
	{ B("'\""), "'\\'\"'" },
	/* escapes */
	{ B("back\\slash"), "'back\\\\slash'" },
	{ B("\\'"), "\"\\\\'\"" },
	{ B("a\nb\rc\td"), "'a\\nb\\rc\\td'" },
	{ B("\x0b\x0c"), "'\\x0b\\x0c'" },
	{ B("\x01\x1f\x7f"), "'\\x01\\x1f\\x7f'" },
	{ B("\x1b[0m"), "'\\x1b[0m'" },
	{ B("\x80"), "'\\x80'" },
	{ B("~ !"), "'~ !'" },
	/* explicit length: NULs are characters */
	{ B("a\0b"), "'a\\x00b'" },
	{ B("\0"), "'\\x00'" },
	{ "abc", 2, "'ab'" },
};

static void
test_pyrepr(void)
{
	struct strbuf sb;
	size_t i;

	sb_init(&sb, 0);
	for (i = 0; i < NELEM(repr_cases); i++) {
		sb_reset(&sb);
		is_int(sb_add_pyrepr_n(&sb, repr_cases[i].in,
		    repr_cases[i].len), 0, "sb_add_pyrepr_n(%s) rc",
		    unit_q(repr_cases[i].in, repr_cases[i].len));
		is_str(sb.buf, repr_cases[i].out, "sb_add_pyrepr_n(%s)",
		    unit_q(repr_cases[i].in, repr_cases[i].len));
		if (memchr(repr_cases[i].in, '\0', repr_cases[i].len) != NULL ||
		    strlen(repr_cases[i].in) != repr_cases[i].len)
			continue;
		sb_reset(&sb);
		sb_add_pyrepr(&sb, repr_cases[i].in);
		is_str(sb.buf, repr_cases[i].out, "sb_add_pyrepr(%s)",
		    unit_qs(repr_cases[i].in));
	}
	/* appends after existing content, as in the exception messages */
	sb_reset(&sb);
	sb_adds(&sb, "No such domain: ");
	sb_add_pyrepr(&sb, "nonexist");
	is_str(sb.buf, "No such domain: 'nonexist'", "pyrepr appends");
	sb_free(&sb);

	/* the cap holds for the escaped length */
	sb_init(&sb, 5);
	is_int(sb_add_pyrepr(&sb, "abc"), 0, "repr exactly at the cap");
	sb_free(&sb);
	sb_init(&sb, 5);
	is_int(sb_add_pyrepr(&sb, "a\nc"), -1, "repr over the cap (escapes)");
	sb_free(&sb);
}

int
main(void)
{
	test_cap();
	test_addf();
	test_pyrepr();
	return done_testing();
}
