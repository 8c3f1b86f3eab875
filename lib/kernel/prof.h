/*
 * In-kernel sampling (toro-prof record --in-guest): each core's local APIC
 * timer interrupt records the interrupted RIP and frame-pointer chain into
 * a per-core ring that the host reads from guest memory.  The layout below
 * is an ABI with tools/toro-prof (which includes this header): bump
 * PROF_VERSION when it changes.  Plain C types only, no kernel headers.
 */
#ifndef TORO_KERNEL_PROF_H
#define TORO_KERNEL_PROF_H

#include <stdbool.h>
#include <stdint.h>

#define PROF_MAGIC 0x31666f7250726f54ULL	/* "ToroProf1" */
#define PROF_VERSION 1
#define PROF_RECORD_WORDS 32
#define PROF_FRAMES (PROF_RECORD_WORDS - 7)	/* return addresses kept */
#define PROF_RING_RECORDS 512			/* per core, a power of two */
#define PROF_MAX_HZ 100000
#define PROF_INFO_DEPTH 0xff			/* info: ret[] entries used */
#define PROF_INFO_IDLE 0x100			/* info: the core's idle thread */

/* One sample: 256 bytes.  seq is written last (release), then the head. */
struct prof_record {
	uint64_t seq;		/* this record's index: slot = seq % records */
	uint64_t info;		/* depth | PROF_INFO_* */
	uint64_t tsc;
	uint64_t rip, rsp;
	uint64_t top[2];	/* [rsp], [rsp+8]: a leaf's return address (0: unmapped) */
	uint64_t ret[PROF_FRAMES];	/* the frame-pointer chain, innermost first */
};

/* One core's state, 64 bytes, in the header block.  The host reads
 * `head` (records written so far) and `hz` (the rate this core applies). */
struct prof_core {
	uint64_t head;
	uint64_t next_tsc, period;
	uint32_t hz, pad0;
	uint64_t cut;		/* walks ended by a bad frame pointer */
	uint64_t pad[3];
};

/* At toro_prof (a pointer the host finds in the symbol table). */
struct prof_header {
	uint64_t magic;
	uint32_t version, ncpus;
	uint32_t records, record_size;
	uint64_t tsc_hz;
	uint64_t cores;		/* address of struct prof_core[ncpus] */
	uint64_t rings;		/* ring i: rings + i * records * record_size */
	uint64_t pad[2];
};

_Static_assert(sizeof(struct prof_record) == PROF_RECORD_WORDS * 8, "record size");
_Static_assert(sizeof(struct prof_core) == 64, "core size");
_Static_assert(sizeof(struct prof_header) == 64, "header size");

#ifndef TORO_PROF_HOST
/* Samples per second per core, 0 off: written by prof= or by the host. */
extern volatile uint32_t toro_prof_hz;
extern struct prof_header *volatile toro_prof;

/* With sampling off this is the whole cost: one predictable branch. */
static inline bool
prof_enabled(void)
{
	return __builtin_expect(toro_prof_hz != 0, 0);
}

/* After smp_init(): counts the cores; makes the rings only for prof=HZ
 * (otherwise when sampling is first switched on). */
void prof_init(void);
/* From the NMI handler: arm this core's timer so it picks up the rate. */
void prof_nmi(bool interrupts_were_on);
/* Kernel option prof=HZ. */
int prof_set_hz(const char *v);
/* This core's next sample time (TSC), 0 when it has none; picks up a
 * changed toro_prof_hz.  The scheduler arms its timer for it too. */
uint64_t prof_deadline(void);
/* From the timer interrupt: a sample, if one is due. */
void prof_tick(uint64_t rip, uint64_t rsp, uint64_t rbp);
#endif

#endif
