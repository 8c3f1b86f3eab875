/*
 * TSC calibration and the CMOS real-time clock.  Calibration is lazy: a
 * program that never asks the time never pays for it (the PIT path waits
 * 10 ms), which keeps boot fast.
 */
#include "arch/x86_64/clock.h"

#include <stdbool.h>

#include "arch/x86_64/io.h"
#include "lib/kernel/printk.h"

static uint64_t hz;

static uint64_t
tsc_hz_from_cpuid(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	uint32_t max = r[0];
	if (max >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0];
	}
	if (max >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0])
			return (uint64_t)r[0] * 1000000;
	}
	return 0;
}

/*
 * Counts TSC ticks while PIT channel 2 counts down 10 ms.  Needs port 0x61
 * (channel 2's gate and output), which microvm does not have: there it
 * reads 0xFF, the output bit looks set at once and the count is nonsense.
 */
static uint64_t
tsc_hz_from_pit(void)
{
	const unsigned ms = 10;
	const uint16_t count = 1193182 * ms / 1000;

	if (inb(0x61) == 0xFF)
		return 0;			/* no port 0x61 */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);	/* gate on, speaker off */
	outb(0x43, 0xB0);			/* channel 2, mode 0, lo/hi */
	outb(0x42, count & 0xFF);
	outb(0x42, count >> 8);
	uint64_t start = rdtsc(), now = start;
	while (!(inb(0x61) & 0x20)) {
		now = rdtsc();
		if (now - start > 20000000000ULL)
			return 0;	/* no PIT answers */
	}
	now = rdtsc();
	return (now - start) * 1000 / ms;
}

static uint16_t
pit0_count(void)
{
	outb(0x43, 0x00);			/* latch channel 0's count */
	uint8_t lo = inb(0x40);
	return (uint16_t)(lo | inb(0x40) << 8);
}

/*
 * Counts TSC ticks while PIT channel 0 counts 10 ms, reading its latched
 * count: only ports 0x40-0x43, which microvm has.  Channel 0 is free to
 * reprogram: the kernel takes no timer interrupts.
 */
static uint64_t
tsc_hz_from_pit0(void)
{
	const uint16_t ticks = 1193182 / 100;	/* 10 ms */

	outb(0x43, 0x34);			/* channel 0, lo/hi, rate generator */
	outb(0x40, 0xFF);
	outb(0x40, 0xFF);			/* period 65535 ticks, 55 ms */
	uint16_t first = pit0_count(), now;
	uint64_t start = rdtsc();
	for (unsigned long n = 0;; n++) {
		now = pit0_count();
		if ((uint16_t)(first - now) >= ticks)
			break;
		if (n > 100000 && now == first)
			return 0;		/* the count never moves: no PIT */
		if (rdtsc() - start > 20000000000ULL)
			return 0;
	}
	return (rdtsc() - start) * 1193182 / (uint16_t)(first - now);
}

uint64_t
tsc_hz(void)
{
	if (!hz) {
		hz = tsc_hz_from_cpuid();
		if (!hz)
			hz = tsc_hz_from_pit();
		if (!hz)
			hz = tsc_hz_from_pit0();
		if (!hz) {
			hz = 1000000000;
			pr_warn("cannot calibrate the TSC; assuming 1 GHz\n");
		}
		pr_debug("TSC: %llu kHz\n", (unsigned long long)(hz / 1000));
	}
	return hz;
}

static uint8_t
cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t
rtc_read_epoch(void)
{
	uint8_t t[7], again[7];

	if (cmos(0x0A) == 0xFF)
		return 0;	/* no RTC on this machine */
	/* Read until two reads agree, outside an update. */
	for (int tries = 0; tries < 100; tries++) {
		while (cmos(0x0A) & 0x80)
			;
		for (int i = 0; i < 7; i++)
			t[i] = cmos((uint8_t[]){ 0, 2, 4, 7, 8, 9, 0x32 }[i]);
		for (int i = 0; i < 7; i++)
			again[i] = cmos((uint8_t[]){ 0, 2, 4, 7, 8, 9, 0x32 }[i]);
		bool same = true;
		for (int i = 0; i < 7; i++)
			same = same && t[i] == again[i];
		if (same)
			break;
	}
	uint8_t b = cmos(0x0B);
	bool pm = t[2] & 0x80;
	t[2] &= 0x7F;
	if (!(b & 0x04))	/* BCD */
		for (int i = 0; i < 7; i++)
			t[i] = (uint8_t)((t[i] >> 4) * 10 + (t[i] & 0x0F));
	if (!(b & 0x02) && pm)	/* 12-hour clock */
		t[2] = (uint8_t)((t[2] % 12) + 12);
	int64_t year = (t[6] >= 19 && t[6] <= 30 ? t[6] : 20) * 100 + t[5];
	return days_from_civil(year, t[4], t[3]) * 86400 + t[2] * 3600 +
	       t[1] * 60 + t[0];
}
