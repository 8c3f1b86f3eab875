/* Starting the application: the Linux process entry, built by hand. */
#ifndef TORO_CRT_START_H
#define TORO_CRT_START_H

#include "lib/kernel/cmdline.h"

/* Kernel options: stack=SIZE (main thread stack), argv0=NAME. */
int crt_set_stack_size(const char *value);
/* The main thread's stack size in bytes (stack=, or 256 KiB). */
unsigned long crt_stack_size(void);
int crt_set_argv0(const char *value);

/* Builds argc/argv/envp/auxv on a fresh stack and enters musl's _start. */
__attribute__((noreturn)) void crt_start(const struct cmdline *cl);

#endif
