/*
 * Calendar arithmetic shared by the CMOS clock (arch/x86_64/clock.c) and
 * FAT timestamps (lib/fs/fat_dir.c): days between the Unix epoch and a
 * proleptic Gregorian date.  Pure, so host tests compile it too.
 */
#ifndef TORO_CIVIL_H
#define TORO_CIVIL_H

#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31). */
static inline int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

#endif
