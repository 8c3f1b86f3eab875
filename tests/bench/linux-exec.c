/*
 * The Linux guest's /init for a program that is not built with
 * linux-init.c: busybox httpd, or the web server built by its own Makefile
 * (examples/webserver, `make host-static`).  linux-init.c's PID-1 shim
 * (modules, ip=, the exit status through isa-debug-exit) runs first, as
 * in every other Linux-guest program; this main() then replaces itself
 * with the program the kernel command line names after "--" (the kernel
 * hands those words to /init as its arguments), keeping the environment.
 * Not part of Toro.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "linux-exec: no program to run (give it after \"--\")\n");
		return 127;
	}
	execv(argv[1], argv + 1);
	fprintf(stderr, "linux-exec: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
