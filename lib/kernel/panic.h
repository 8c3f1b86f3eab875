/* Fatal errors: report, backtrace, stop the VM with a distinct status. */
#ifndef TORO_PANIC_H
#define TORO_PANIC_H

#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
/* Prints the frame-pointer chain starting at (rip, rbp), symbolised. */
void backtrace_print(uint64_t rip, uint64_t rbp);
/* Ends the application: flushes nothing, stops the VM with status. */
__attribute__((noreturn)) void kernel_exit(int status);

#endif
