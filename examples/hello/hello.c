/*
 * Hello world for Toro: an ordinary C program.  Nothing here knows it runs
 * on a unikernel; the image it links into boots straight on a VMM.
 */
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	const char *who = getenv("WHO");
	double *sum = malloc(sizeof(*sum));

	if (!sum)
		return 1;
	*sum = 0;
	for (int i = 1; i < argc; i++)
		*sum += atof(argv[i]);
	printf("Hello, %s! This is Toro.\n", who ? who : "world");
	printf("%d argument%s, sum %f\n", argc - 1, argc == 2 ? "" : "s", *sum);
	free(sum);
	return 3;
}
