/*
 * The virtio console (tests/guest/console.test): prints a line to stdout
 * and one to stderr, then, with the argument "echo", reads a line from
 * standard input (/dev/console) and prints it back; exits with status 7.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	printf("console: stdout line\n");
	fflush(stdout);
	fprintf(stderr, "console: stderr line\n");
	if (argc > 1 && !strcmp(argv[1], "echo")) {
		char line[128];
		size_t n = 0;
		while (n < sizeof(line) - 1) {
			ssize_t r = read(0, line + n, 1);
			if (r <= 0 || line[n] == '\n')
				break;
			n++;
		}
		line[n] = 0;
		printf("console: read [%s]\n", line);
	}
	return 7;
}
