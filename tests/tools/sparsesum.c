/*
 * sparsesum - a content digest of large sparse images, without reading
 * their holes.
 *
 *	sparsesum FILE...
 *
 * Prints "HEX  FILE" for each FILE, where HEX is the SHA-256 of the
 * file's size followed by (offset, block) for every 4 KiB block whose
 * content is not all zero.  Two files get the same digest exactly when
 * they have the same size and the same bytes, whatever their allocation
 * (a hole and a written block of zeros both read as zeros, and both are
 * left out).  Only the data extents (SEEK_DATA / SEEK_HOLE) are read, so a
 * 2 GiB image with a few written blocks takes microseconds where
 * sha256sum or cmp read 2 GiB of zeros.  Without SEEK_DATA support the
 * whole file is read.
 *
 * Exit status: 0, or 1 when a file could not be read (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

enum { BLOCK = 4096, CHUNK = 256 * BLOCK };

static unsigned char buf[CHUNK];

static void put_u64(EVP_MD_CTX *md, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	EVP_DigestUpdate(md, b, sizeof b);
}

static int all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Digest the blocks of [from, to) of fd; from is a multiple of BLOCK. */
static int add_range(EVP_MD_CTX *md, int fd, off_t from, off_t to)
{
	while (from < to) {
		size_t want = (size_t)(to - from) < sizeof buf ?
		    (size_t)(to - from) : sizeof buf;
		ssize_t got = pread(fd, buf, want, from);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		for (size_t at = 0; at < (size_t)got; at += BLOCK) {
			size_t n = (size_t)got - at < BLOCK ?
			    (size_t)got - at : BLOCK;

			if (all_zero(buf + at, n))
				continue;
			put_u64(md, (uint64_t)from + at);
			EVP_DigestUpdate(md, buf + at, n);
		}
		from += got;
	}
	return 0;
}

static int digest(const char *path, unsigned char *out, unsigned *outlen)
{
	struct stat st;
	EVP_MD_CTX *md;
	off_t pos = 0, data, hole, done = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	md = EVP_MD_CTX_new();
	if (md == NULL || fstat(fd, &st) < 0 ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	put_u64(md, (uint64_t)st.st_size);
	while (pos < st.st_size) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;		/* only a hole is left */
		if (data < 0 && errno == EINVAL) {
			data = pos;	/* no SEEK_DATA: read everything */
			hole = st.st_size;
		} else if (data < 0) {
			goto out;
		} else {
			hole = lseek(fd, data, SEEK_HOLE);
			if (hole < 0)
				goto out;
		}
		/* whole blocks, each digested once even when extents share one */
		data -= data % BLOCK;
		if (data < done)
			data = done;
		hole += (BLOCK - hole % BLOCK) % BLOCK;
		if (hole > st.st_size)
			hole = st.st_size;
		if (data < hole && add_range(md, fd, data, hole) < 0)
			goto out;
		if (hole > done)
			done = hole;
		pos = hole;
	}
	if (EVP_DigestFinal_ex(md, out, outlen) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: sparsesum FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned n = 0;

		if (digest(argv[i], d, &n) < 0) {
			fprintf(stderr, "sparsesum: %s: %s\n", argv[i],
			    strerror(errno));
			status = 1;
			continue;
		}
		for (unsigned k = 0; k < n; k++)
			printf("%02x", d[k]);
		printf("  %s\n", argv[i]);
	}
	return status;
}
