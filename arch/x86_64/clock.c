/*
 * TSC calibration, the local APIC timer and the CMOS real-time clock.
 * Calibration is lazy: a program that never asks the time never pays for
 * it (the PIT path waits 10 ms, the APIC timer's 2 ms on the first
 * sleep), which keeps boot fast.  Which thread waits for what is the
 * scheduler's business (lib/sched/sched.c): this file only arms one
 * CPU's timer for one deadline.
 */
#include "arch/x86_64/clock.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/civil.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"

static uint64_t hz;	/* TSC ticks per second, once calibrated */

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
 * reprogram: the PICs are masked and sleeps use the local APIC timer.
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

/* The first caller calibrates; any other core asking meanwhile waits. */
uint64_t
tsc_hz(void)
{
	static struct spinlock lock;
	uint64_t h = __atomic_load_n(&hz, __ATOMIC_ACQUIRE);

	if (h)
		return h;
	spin_lock(&lock);
	h = hz;
	if (!h) {
		h = tsc_hz_from_cpuid();
		if (!h)
			h = tsc_hz_from_pit();
		if (!h)
			h = tsc_hz_from_pit0();
		if (!h) {
			h = 1000000000;
			pr_warn("cannot calibrate the TSC; assuming 1 GHz\n");
		}
		pr_debug("TSC: %llu kHz\n", (unsigned long long)(h / 1000));
		__atomic_store_n(&hz, h, __ATOMIC_RELEASE);
	}
	spin_unlock(&lock);
	return h;
}

/* ------------------------------------------------- the local APIC timer */

#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CURRENT	0x390
#define LAPIC_TIMER_DIVIDE	0x3E0
#define LVT_MASKED		(1 << 16)
#define LVT_TSC_DEADLINE	(2 << 17)
#define TIMER_DIVIDE_BY_1	0x0B
#define MSR_TSC_DEADLINE	0x6E0

static int tsc_deadline = -1;	/* CPUID.1:ECX[24], once known */
static uint64_t apic_hz;	/* one-shot count rate at divide 1; 1 = broken */

static bool
has_tsc_deadline(void)
{
	if (tsc_deadline < 0) {
		uint32_t r[4];

		cpuid(1, 0, r);
		tsc_deadline = (r[2] >> 24) & 1;
		pr_debug("timer: local APIC, %s mode\n",
			 tsc_deadline ? "TSC-deadline" : "one-shot");
	}
	return tsc_deadline;
}

/*
 * Reads the TSC and the timer's current count together; the TSC is the
 * middle of the two around the count, the distance is how much to trust it.
 */
static uint32_t
apic_count_at(uint64_t *tsc, uint64_t *spread)
{
	uint64_t a = rdtsc();
	uint32_t c = lapic_read(LAPIC_TIMER_CURRENT);
	uint64_t b = rdtsc();

	*tsc = a + (b - a) / 2;
	*spread = b - a;
	return c;
}

/*
 * The one-shot timer's rate against the TSC, over a 2 ms window (tried
 * again if the vCPU was descheduled in the middle of a read).  Sleeps
 * aim a little short and re-arm, so an error of a percent costs a wake-up,
 * not a late return.
 */
static uint64_t
apic_timer_hz(void)
{
	uint64_t hz_now = __atomic_load_n(&apic_hz, __ATOMIC_RELAXED);

	if (hz_now)
		return hz_now;
	uint64_t window = tsc_hz() / 500, t0, t1, s0, s1;
	uint32_t c0 = 0, c1 = 0;
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	for (int tries = 0; tries < 5; tries++) {
		lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFF);
		c0 = apic_count_at(&t0, &s0);
		while (rdtsc() - t0 < window)
			__asm__ volatile("pause");
		c1 = apic_count_at(&t1, &s1);
		if ((s0 + s1) * 100 < window)
			break;
	}
	lapic_write(LAPIC_TIMER_INIT, 0);
	this_cpu()->timer_mode = 0;	/* masked: timer_arm sets it up again */
	hz_now = c1 < c0 && t1 > t0 ?
		muldiv64(c0 - c1, tsc_hz(), t1 - t0, 0) : 0;
	if (!hz_now) {
		pr_warn("timer: the local APIC timer does not count; sleeps "
			"will spin\n");
		hz_now = 1;
	}
	pr_debug("timer: local APIC timer %llu kHz\n",
		 (unsigned long long)(hz_now / 1000));
	__atomic_store_n(&apic_hz, hz_now, __ATOMIC_RELAXED);
	return hz_now;
}

/* Arms this CPU's timer to fire at (or, one-shot, a little before) deadline. */
/*
 * The LVT (and divider) are written only when this CPU's mode changes:
 * each local APIC access is a VM exit, and under TCG one into QEMU's
 * APIC model; an idle core re-arms its timer at every halt.
 */
static void
timer_arm(uint64_t deadline, uint64_t now)
{
	struct percpu *cpu = this_cpu();

	if (has_tsc_deadline()) {
		if (cpu->timer_mode != 2) {
			lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
			/* The SDM asks for this between the LVT write and the MSR. */
			__asm__ volatile("mfence" ::: "memory");
			cpu->timer_mode = 2;
		}
		wrmsr(MSR_TSC_DEADLINE, deadline);
		return;
	}
	/* 63/64 of the way: a rate measured a little high wakes early. */
	uint64_t count = muldiv64(deadline - now, apic_hz, tsc_hz(), 0) / 64 * 63;
	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFF)
		count = 0xFFFFFFFF;
	if (cpu->timer_mode != 1) {
		lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);	/* one-shot */
		lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
		cpu->timer_mode = 1;
	}
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)count);
}

/*
 * Arms this CPU's timer to interrupt at deadline (one-shot mode: a little
 * before; the scheduler looks at the TSC and arms again).  False when
 * there is no usable local APIC timer: the caller has to poll.
 */
bool
timer_arm_at(uint64_t deadline)
{
	if (!lapic_present() || (!has_tsc_deadline() && apic_timer_hz() <= 1))
		return false;
	uint64_t now = rdtsc();
	if ((int64_t)(deadline - now) <= 0)
		deadline = now + 1;
	timer_arm(deadline, now);
	return true;
}

/* ------------------------------------------------------ the CMOS clock */

static uint8_t
cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
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
