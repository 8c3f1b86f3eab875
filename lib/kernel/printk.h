/*
 * Kernel console output: a small printf (no floating point) and log levels.
 * Everything goes to the console sink registered by the console driver.
 */
#ifndef TORO_PRINTK_H
#define TORO_PRINTK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above this level are dropped; set by the quiet/debug options. */
extern int log_level;

typedef void (*console_write_fn)(const char *buf, size_t len);
void console_set_sink(console_write_fn fn);
void console_write(const char *buf, size_t len);
/*
 * Console input (/dev/console reads): a driver that has some registers a
 * reader, which blocks until at least one byte is there and returns how
 * many it stored.  Without one, console_read() returns 0 (end of file).
 */
typedef long (*console_read_fn)(char *buf, size_t len);
void console_set_reader(console_read_fn fn);
long console_read(char *buf, size_t len);
/* From now on several cores write: take turns (called before APs start). */
void console_share(void);

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)	klog(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	klog(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	klog(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	klog(LOG_DEBUG, __VA_ARGS__)

#endif
