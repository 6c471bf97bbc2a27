/*
 * /init of the tiny test guest: mounts the pseudo file systems, loads the
 * kernel modules shipped in /modules (file names sort in load order), says
 * "tinyvm: up" on the console and powers off when the ACPI power button is
 * pressed, unless the kernel command line has tinyvm.ignore_power=1.
 *
 * Build: gcc -std=c11 -static -Os -Wall -Wextra -Werror -o init init.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_EV 32

static void say(const char *msg)
{
	printf("tinyvm: %s\n", msg);
	fflush(stdout);
}

static void hang(void)
{
	for (;;)
		pause();
}

static int ignore_power(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *t = strtok(buf, " \t\n"); t; t = strtok(NULL, " \t\n"))
		if (strcmp(t, "tinyvm.ignore_power=1") == 0)
			return 1;
	return 0;
}

static int is_ko(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && strcmp(d->d_name + n - 3, ".ko") == 0;
}

static void load_modules(void)
{
	struct dirent **ent;
	int n = scandir("/modules", &ent, is_ko, alphasort);

	for (int i = 0; i < n; i++) {
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "/modules/%s", ent[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 &&
		    errno != EEXIST))
			printf("tinyvm: cannot load %s: %s\n", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		free(ent[i]);
	}
	if (n >= 0)
		free(ent);
}

static void list_disks(void)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "vd", 2) == 0)
			printf("tinyvm: disk %s\n", e->d_name);
	closedir(d);
}

int main(void)
{
	struct pollfd pfd[MAX_EV];
	int nfd = 0, ignore, fd;
	DIR *d;
	struct dirent *e;

	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);

	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = open("/dev/ttyS0", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}

	ignore = ignore_power();
	load_modules();
	list_disks();

	d = opendir("/dev/input");
	while (d && (e = readdir(d)) && nfd < MAX_EV) {
		char path[300];

		if (strncmp(e->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			pfd[nfd++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (d)
		closedir(d);

	say(ignore ? "up (ignoring power button)" : "up");
	if (nfd == 0) {
		say("no input devices, power button will not work");
		hang();
	}

	for (;;) {
		if (poll(pfd, (nfds_t)nfd, -1) < 0) {
			if (errno == EINTR)
				continue;
			say("poll failed");
			hang();
		}
		for (int i = 0; i < nfd; i++) {
			struct input_event ev[16];
			ssize_t r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			r = read(pfd[i].fd, ev, sizeof(ev));
			for (ssize_t k = 0; k < r / (ssize_t)sizeof(ev[0]); k++) {
				if (ev[k].type != EV_KEY || ev[k].code != KEY_POWER ||
				    ev[k].value != 1)
					continue;
				if (ignore) {
					say("power button (ignored)");
					continue;
				}
				say("power button");
				sync();
				reboot(RB_POWER_OFF);
				say("power off failed");
				hang();
			}
		}
	}
}
