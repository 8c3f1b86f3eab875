/* Built by its own configure --host=x86_64-toro; reports what configure found. */
#include <stdio.h>
#include <time.h>
#ifdef HAVE_TORO_TORO_H
#include <toro/toro.h>
#endif

int
main(void)
{
#ifdef HAVE_TORO_TORO_H
	printf("autotools app on Toro %s\n", toro_version());
#else
	printf("autotools app without toro/toro.h\n");
#endif
#if defined(HAVE_CLOCK_GETTIME) && defined(HAVE_GETRANDOM)
	printf("configure found clock_gettime and getrandom\n");
#endif
	return 5;
}
