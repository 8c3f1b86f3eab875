/*
 * A minimal printf for the kernel: %d %i %u %x %X %p %s %c %%, with the
 * l/ll/z length modifiers, field width, '-' and '0' flags and precision for
 * strings.  No floating point: the kernel never touches the FPU.  Log lines
 * are prefixed "toro: " so they stand apart from the application's output.
 */
#include "lib/kernel/printk.h"

#include <stdint.h>

#ifndef TORO_HOST_TEST
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#endif

int log_level = LOG_WARN;
static console_write_fn console_sink;
/*
 * Once other cores run (console_share()), cores write whole lines in
 * turn.  The owner is the CPU's index + 1, so a fault report from a CPU
 * that holds the lock (a fault inside the console driver) still prints
 * instead of waiting for itself.
 */
static bool console_shared;
static unsigned console_owner;

void
console_share(void)
{
	console_shared = true;
}

void
console_set_sink(console_write_fn fn)
{
	console_sink = fn;
}

static console_read_fn console_reader;

void
console_set_reader(console_read_fn fn)
{
	console_reader = fn;
}

long
console_read(char *buf, size_t len)
{
	console_read_fn fn = console_reader;

	return fn ? fn(buf, len) : 0;
}

void
console_write(const char *buf, size_t len)
{
	if (!console_sink)
		return;
#ifndef TORO_HOST_TEST
	if (!console_shared) {
		console_sink(buf, len);
		return;
	}
	unsigned me = this_cpu()->index + 1, free = 0;
	bool nested = __atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me;
	unsigned long flags = irq_save();
	if (!nested)
		while (!__atomic_compare_exchange_n(&console_owner, &free, me, false,
						    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			free = 0;
			__builtin_ia32_pause();
		}
	console_sink(buf, len);
	if (!nested)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
#else
	console_sink(buf, len);
#endif
}

struct out {
	char *buf;
	size_t size, pos;
};

static void
put(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void
put_padded(struct out *o, const char *s, size_t len, int width, int left,
	   char pad)
{
	int fill = width > (int)len ? width - (int)len : 0;

	if (!left && pad == '0' && len && (*s == '-')) {
		put(o, *s++);
		len--;
	}
	if (!left)
		while (fill-- > 0)
			put(o, pad);
	while (len--)
		put(o, *s++);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static size_t
format_num(char *tmp, unsigned long long v, unsigned base, int upper, int neg)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	size_t n = 0, i = 0;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[i++] = '-';
	while (n)
		tmp[i++] = rev[--n];
	return i;
}

int
kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	char tmp[32];

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		int left = 0, width = 0, prec = -1, lng = 0;
		char pad = ' ';
		for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
			if (*fmt == '-')
				left = 1;
			else
				pad = '0';
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		if (*fmt == '.') {
			prec = 0;
			fmt++;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			for (; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (*fmt - '0');
		}
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			lng++;
		unsigned long long u;
		long long s;
		size_t n;
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, long long) : va_arg(ap, int);
			u = s < 0 ? 0ULL - (unsigned long long)s : (unsigned long long)s;
			n = format_num(tmp, u, 10, 0, s < 0);
			put_padded(&o, tmp, n, width, left, pad);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
			n = format_num(tmp, u, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0);
			put_padded(&o, tmp, n, width, left, pad);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			tmp[0] = '0';
			tmp[1] = 'x';
			n = 2 + format_num(tmp + 2, u, 16, 0, 0);
			put_padded(&o, tmp, n, width, left, pad);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t len = 0;
			while (str[len] && (prec < 0 || (int)len < prec))
				len++;
			put_padded(&o, str, len, width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
		}
	}
done:
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return (int)o.pos;
}

int
ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void
vprint(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];
	size_t p = 0;

	if (prefix)
		while (*prefix && p < sizeof(line) - 1)
			line[p++] = *prefix++;
	int n = kvsnprintf(line + p, sizeof(line) - p, fmt, ap);
	size_t len = p + (size_t)n;
	if (len > sizeof(line) - 1)
		len = sizeof(line) - 1;
	console_write(line, len);
}

void
kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(NULL, fmt, ap);
	va_end(ap);
}

void
klog(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vprint("toro: ", fmt, ap);
	va_end(ap);
}
