/* getrandom(2) over lib/kernel/random.c; never blocks. */
#include <errno.h>

#include "lib/kernel/random.h"
#include "lib/sys/syscall.h"

#define GRND_NONBLOCK	1
#define GRND_RANDOM	2
#define GRND_INSECURE	4

long
sys_getrandom(long buf, long len, long flags, long a3, long a4, long a5)
{
	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if (len < 0)
		return -EINVAL;
	if (len > 33554431)
		len = 33554431;		/* Linux's per-call limit */
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	random_fill((void *)buf, (size_t)len);
	return len;
}
