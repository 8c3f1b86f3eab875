/* The smallest useful guest: prints, allocates, reads argv and the
 * environment, and exits with status 3.  Booted on every boot path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char *buf = malloc(64);

	if (!buf)
		return 1;
	snprintf(buf, 64, "%.3f", 2.5);
	printf("hello from Toro: %s\n", buf);
	printf("argc=%d", argc);
	for (int i = 1; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf("\n");
	const char *greeting = getenv("GREETING");
	printf("GREETING=%s\n", greeting ? greeting : "(unset)");
	free(buf);
	return 3;
}
