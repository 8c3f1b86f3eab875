/* The hello world of the size, boot and memory benchmarks. */
#include <stdio.h>

int
main(void)
{
	printf("hello %f\n", 2.5);
	return 0;
}
