/*
 * POSIX cksum(1) in a guest test program: CRC-32 (polynomial 0x04C11DB7,
 * most significant bit first) over a file's bytes and then its length,
 * complemented, so the host can compare with `cksum FILE`.  Prints
 * "cksum PATH CRC SIZE" (or "cksum PATH error ERRNO"); returns nonzero on
 * an error.
 */
#ifndef TORO_TESTS_GUEST_CKSUM_H
#define TORO_TESTS_GUEST_CKSUM_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static uint32_t
crc_byte(uint32_t crc, unsigned char c)
{
	crc ^= (uint32_t)c << 24;
	for (int i = 0; i < 8; i++)
		crc = crc & 0x80000000u ? crc << 1 ^ 0x04C11DB7u : crc << 1;
	return crc;
}

static int
cksum_file(const char *path)
{
	static unsigned char buf[65536];
	uint32_t crc = 0;
	unsigned long long size = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("cksum %s error %d\n", path, errno);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			crc = crc_byte(crc, buf[i]);
		size += (unsigned long long)n;
	}
	close(fd);
	for (unsigned long long s = size; s; s >>= 8)
		crc = crc_byte(crc, s & 0xff);
	printf("cksum %s %u %llu\n", path, ~crc, size);
	return n < 0;
}

#endif
