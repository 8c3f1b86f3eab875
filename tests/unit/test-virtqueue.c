/*
 * The split virtqueue (drivers/virtio/virtqueue.c) against a simulated
 * device: layout sizes, chains and the free list, exhaustion and recovery,
 * indirect descriptors, the used ring handing back cookies and lengths,
 * completions out of order, a device returning a bogus id, the
 * notification decision with and without VIRTIO_F_EVENT_IDX, the event
 * index maths across 16-bit wrap-around, and a long random run against a
 * model that keeps every descriptor accounted for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio/virtqueue.h"
#include "tap.h"

#define QSIZE 16

static uint8_t mem[65536] __attribute__((aligned(4096)));
static void *cookies[256];
static struct virtq vq;
static uint16_t dev_avail;	/* the device's next avail slot */

static void
fresh(uint16_t size, bool event_idx)
{
	memset(mem, 0, sizeof(mem));
	vq_init_legacy(&vq, size, mem, 4096, cookies);
	vq.event_idx = event_idx;
	dev_avail = 0;
}

/* The device takes the next available head; -1 if none. */
static int
dev_take(void)
{
	if (dev_avail == vq.avail->idx)
		return -1;
	return vq.avail->ring[dev_avail++ & (vq.size - 1)];
}

static void
dev_complete(uint16_t head, uint32_t len)
{
	uint16_t i = vq.used->idx;
	vq.used->ring[i & (vq.size - 1)].id = head;
	vq.used->ring[i & (vq.size - 1)].len = len;
	vq.used->idx = (uint16_t)(i + 1);
}

/* Descriptors reachable from head (following NEXT), or -1 on a loop. */
static int
chain_len(uint16_t head)
{
	int n = 1;
	uint16_t i = head;
	while (vq.desc[i].flags & VQ_DESC_F_NEXT) {
		i = vq.desc[i].next;
		if (++n > vq.size)
			return -1;
	}
	return n;
}

static void
test_layout(void)
{
	is_int(vq_desc_bytes(256), 4096, "256 descriptors take 4096 bytes");
	is_int(vq_avail_bytes(256), 6 + 512, "avail ring: flags, idx, ring, used_event");
	is_int(vq_used_bytes(256), 6 + 2048, "used ring: flags, idx, ring, avail_event");
	is_int(vq_legacy_bytes(256, 4096), 4096 * 2 + 4096, "legacy layout of 256: 3 pages");
	is_int(vq_legacy_bytes(16, 4096), 8192, "legacy layout of 16: used ring on its own page");
	fresh(QSIZE, false);
	ok((uint8_t *)vq.used - mem == 4096, "used ring aligned to 4096");
	ok((uint8_t *)vq.avail - mem == 16 * QSIZE, "avail ring right after the descriptors");
}

static void
test_chain(void)
{
	fresh(QSIZE, false);
	struct vq_buf b[3] = {
		{ 0x1000, 16, false }, { 0x2000, 512, true }, { 0x3000, 1, true },
	};
	int head = vq_add_chain(&vq, b, 3, (void *)1);
	ok(head >= 0, "a three-buffer chain is added");
	is_int(vq.num_free, QSIZE - 3, "three descriptors taken");
	is_int(chain_len((uint16_t)head), 3, "the chain links three descriptors");
	ok(vq.desc[head].addr == 0x1000 && !(vq.desc[head].flags & VQ_DESC_F_WRITE),
	   "first buffer device-readable");
	uint16_t second = vq.desc[head].next;
	ok(vq.desc[second].flags & VQ_DESC_F_WRITE, "second buffer device-writable");
	is_int(vq.avail->idx, 0, "nothing visible before publish");
	vq_publish(&vq, (uint16_t)head);
	is_int(vq.avail->idx, 1, "publish moves avail->idx");
	is_int(dev_take(), head, "the device sees the head");
	uint32_t len = 0;
	ok(vq_get_used(&vq, &len) == NULL, "nothing used yet");
	dev_complete((uint16_t)head, 513);
	ok(vq_get_used(&vq, &len) == (void *)1, "the used ring returns the cookie");
	is_int(len, 513, "and the length the device wrote");
	is_int(vq.num_free, QSIZE, "the chain is free again");
	ok(vq_get_used(&vq, &len) == NULL, "used ring drained");
	is_int(vq_add_chain(&vq, b, 0, NULL), -EINVAL, "an empty chain is refused");
}

static void
test_exhaustion(void)
{
	fresh(QSIZE, false);
	struct vq_buf b[4] = { { 1, 1, false }, { 2, 1, false }, { 3, 1, true }, { 4, 1, true } };
	int heads[4];
	for (int i = 0; i < 4; i++) {
		heads[i] = vq_add_chain(&vq, b, 4, (void *)(uintptr_t)(i + 1));
		vq_publish(&vq, (uint16_t)heads[i]);
	}
	is_int(vq.num_free, 0, "four chains of four fill sixteen");
	is_int(vq_add_chain(&vq, b, 1, (void *)9), -ENOSPC, "a full table says -ENOSPC");
	while (dev_take() >= 0)
		;
	/* Out of order: 3, 1, then the others. */
	dev_complete((uint16_t)heads[2], 0);
	dev_complete((uint16_t)heads[0], 0);
	ok(vq_get_used(&vq, NULL) == (void *)3, "completions come back in the device's order (3)");
	ok(vq_get_used(&vq, NULL) == (void *)1, "... then 1");
	is_int(vq.num_free, 8, "two chains freed");
	int h = vq_add_chain(&vq, b, 4, (void *)5);
	ok(h >= 0 && chain_len((uint16_t)h) == 4, "a freed chain is reused");
	is_int(vq.num_free, 4, "four free left");
	/* A bogus id and an id without a request are skipped. */
	dev_complete(999, 0);
	dev_complete((uint16_t)heads[2], 0);	/* already completed, still free */
	dev_complete((uint16_t)heads[1], 7);
	uint32_t len;
	ok(vq_get_used(&vq, &len) == (void *)2 && len == 7,
	   "bogus and stale used entries are skipped");
	is_int(vq.bad_used, 2, "... and counted");
}

static void
test_indirect(void)
{
	fresh(QSIZE, false);
	vq.indirect = true;
	struct vq_desc table[3];
	struct vq_buf b[3] = { { 0x10, 16, false }, { 0x20, 4096, true }, { 0x30, 1, true } };
	int head = vq_add_indirect(&vq, table, 0xABC000, b, 3, (void *)7);
	ok(head >= 0, "indirect request added");
	is_int(vq.num_free, QSIZE - 1, "it takes one ring descriptor");
	ok(vq.desc[head].flags == VQ_DESC_F_INDIRECT && vq.desc[head].addr == 0xABC000 &&
	   vq.desc[head].len == 48, "the descriptor points at the table");
	ok((table[0].flags & VQ_DESC_F_NEXT) && table[0].next == 1 &&
	   (table[1].flags & (VQ_DESC_F_NEXT | VQ_DESC_F_WRITE)) == (VQ_DESC_F_NEXT | VQ_DESC_F_WRITE) &&
	   table[2].flags == VQ_DESC_F_WRITE, "the table chains its entries");
	vq_publish(&vq, (uint16_t)head);
	dev_complete((uint16_t)dev_take(), 4097);
	ok(vq_get_used(&vq, NULL) == (void *)7, "indirect request completes");
	is_int(vq.num_free, QSIZE, "and frees its descriptor");
}

static void
test_notify(void)
{
	fresh(QSIZE, false);
	struct vq_buf b = { 1, 1, false };
	vq_publish(&vq, (uint16_t)vq_add_chain(&vq, &b, 1, (void *)1));
	ok(vq_kick_needed(&vq), "without event index: notify unless NO_NOTIFY");
	vq.used->flags = VQ_USED_F_NO_NOTIFY;
	vq_publish(&vq, (uint16_t)vq_add_chain(&vq, &b, 1, (void *)2));
	ok(!vq_kick_needed(&vq), "NO_NOTIFY suppresses it");

	fresh(QSIZE, true);
	uint16_t *avail_event = (uint16_t *)&vq.used->ring[QSIZE];
	*avail_event = 0;
	vq_publish(&vq, (uint16_t)vq_add_chain(&vq, &b, 1, (void *)1));
	ok(vq_kick_needed(&vq), "event index 0: the first publish notifies");
	vq_publish(&vq, (uint16_t)vq_add_chain(&vq, &b, 1, (void *)2));
	ok(!vq_kick_needed(&vq), "device still wants only index 0: no notify");
	*avail_event = 2;
	vq_publish(&vq, (uint16_t)vq_add_chain(&vq, &b, 1, (void *)3));
	vq_publish(&vq, (uint16_t)vq_add_chain(&vq, &b, 1, (void *)4));
	ok(vq_kick_needed(&vq), "a batch passing the event index notifies once");

	ok(vq_need_event(0xFFFF, 0x0000, 0xFFFF), "need_event across the wrap");
	ok(!vq_need_event(0x0005, 0x0003, 0x0001), "event ahead of new: no");
	ok(vq_need_event(0x0001, 0x0003, 0x0001), "event at old: yes");
	ok(!vq_need_event(0x0000, 0x0003, 0x0001), "event before old: no");

	uint16_t *used_event = (uint16_t *)&vq.avail->ring[QSIZE];
	vq.last_used = 5;
	ok(!vq_enable_interrupts(&vq) || vq.used->idx != 5, "enable_interrupts reports pending completions");
	is_int(*used_event, 5, "used_event set to the next completion");
	vq.used->idx = 6;
	ok(vq_enable_interrupts(&vq), "a completion that slipped in is reported");
}

/* Random adds and completions against a model of what is outstanding. */
static void
test_random(void)
{
	fresh(64, true);
	uintptr_t outstanding[64];
	int nout = 0, errors = 0;
	uint16_t inflight_desc = 0;
	srand(42);
	for (int step = 0; step < 200000; step++) {
		int r = rand() % 3;
		if (r < 2) {
			unsigned n = 1 + (unsigned)rand() % 5;
			struct vq_buf b[5];
			for (unsigned k = 0; k < n; k++)
				b[k] = (struct vq_buf){ (uint64_t)step * 8 + k, k + 1, k > 0 };
			int h = vq_add_chain(&vq, b, n, (void *)(uintptr_t)(step + 1));
			if (h == -ENOSPC) {
				if (vq.num_free >= n)
					errors++;
				continue;
			}
			if (h < 0 || chain_len((uint16_t)h) != (int)n)
				errors++;
			vq_publish(&vq, (uint16_t)h);
			inflight_desc = (uint16_t)(inflight_desc + n);
			outstanding[nout++] = (uintptr_t)(step + 1);
		} else {
			int h = dev_take();
			if (h < 0)
				continue;
			dev_complete((uint16_t)h, 0);
			void *c = vq_get_used(&vq, NULL);
			int found = -1;
			for (int i = 0; i < nout; i++)
				if (outstanding[i] == (uintptr_t)c)
					found = i;
			if (found < 0)
				errors++;
			else
				outstanding[found] = outstanding[--nout];
		}
		if (nout > 64)
			errors++;
	}
	(void)inflight_desc;
	is_int(errors, 0, "200000 random steps: every cookie back once, chains intact");
	while (dev_take() >= 0)
		;
	ok(vq.num_free <= 64, "free count within the table");
}

int
main(void)
{
	test_layout();
	test_chain();
	test_exhaustion();
	test_indirect();
	test_notify();
	test_random();
	return done_testing();
}
