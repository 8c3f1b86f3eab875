/*
 * The few string helpers the kernel needs.  They are the kernel's own, built
 * with -mgeneral-regs-only: musl's C string functions may use SSE registers,
 * which belong to the application during a system call.  memcpy/memset/
 * memmove come from musl, whose x86_64 versions use only general registers.
 */
#ifndef TORO_KSTRING_H
#define TORO_KSTRING_H

#include <stddef.h>
#include <string.h>

size_t kstrlen(const char *s);
size_t kstrnlen(const char *s, size_t max);
int kstrcmp(const char *a, const char *b);
int kstrncmp(const char *a, const char *b, size_t n);
char *kstrchr(const char *s, int c);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t kstrlcpy(char *dst, const char *src, size_t size);
/* Parses an unsigned number with an optional K/M/G suffix; -EINVAL on junk. */
int kparse_size(const char *s, unsigned long long *out);
/* A decimal number from 0 to max into *out (untouched on error); -EINVAL. */
int kparse_uint(const char *s, unsigned max, unsigned *out);

#endif
