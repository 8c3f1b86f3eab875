/*
 * Symbol lookup by binary search over the table the link wrapper generates
 * (format in ksyms.h).  Pure and bounds-checked: a damaged table gives
 * "no symbol", never a bad read.
 */
#include "lib/kernel/ksyms.h"

#include <string.h>

const char *
ksym_lookup(const void *table, size_t len, uint64_t addr, uint64_t *offset)
{
	uint64_t count, base;

	if (len < KSYM_HEADER)
		return NULL;
	memcpy(&count, table, 8);
	memcpy(&base, (const char *)table + 8, 8);
	if (count == 0 || count > (len - KSYM_HEADER) / sizeof(struct ksym_entry))
		return NULL;
	const struct ksym_entry *e =
		(const void *)((const char *)table + KSYM_HEADER);
	const char *names = (const char *)(e + count);
	size_t names_len = len - KSYM_HEADER - count * sizeof(*e);

	if (addr < base || addr - base > UINT32_MAX)
		return NULL;
	uint32_t at = (uint32_t)(addr - base);
	if (at < e[0].addr)
		return NULL;
	size_t lo = 0, hi = count;	/* find the last entry with addr <= at */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (e[mid].addr <= at)
			lo = mid;
		else
			hi = mid;
	}
	if (e[lo].size && at - e[lo].addr >= e[lo].size)
		return NULL;
	if (!e[lo].size && lo + 1 == count)
		return NULL;	/* past the last symbol, size unknown */
	if (e[lo].name >= names_len ||
	    !memchr(names + e[lo].name, '\0', names_len - e[lo].name))
		return NULL;
	*offset = at - e[lo].addr;
	return names + e[lo].name;
}

#ifndef TORO_HOST_TEST
extern const char __toro_ksyms_start[], __toro_ksyms_end[];

const char *
ksym_lookup_self(uint64_t addr, uint64_t *offset)
{
	return ksym_lookup(__toro_ksyms_start,
			   (size_t)(__toro_ksyms_end - __toro_ksyms_start), addr,
			   offset);
}
#endif
