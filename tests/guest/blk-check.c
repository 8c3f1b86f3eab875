/*
 * Host side of blk.test: checks that an image holds exactly the pattern
 * blk.c wrote (blk-pattern.h) with the given seed, sector by sector, and
 * names the first sector that differs.  Usage: blk-check IMAGE SEED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-pattern.h"

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: blk-check IMAGE SEED\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	uint64_t seed = strtoull(argv[2], NULL, 0), sector = 0, got[64], want[64];
	while (fread(got, 512, 1, f) == 1) {
		blk_pattern_sector(seed, sector, want);
		if (memcmp(got, want, 512)) {
			printf("sector %llu differs\n", (unsigned long long)sector);
			return 1;
		}
		sector++;
	}
	printf("%llu sectors match\n", (unsigned long long)sector);
	return sector ? 0 : 1;
}
