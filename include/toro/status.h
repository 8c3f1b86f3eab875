/*
 * toro/status.h - the exit statuses a Toro guest reports to the host.
 *
 * An application's exit(n) or return from main() stops the virtual machine
 * and toro-run(1) exits with n.  When the kernel stops the application
 * because of a CPU exception it reports 128 + the signal Linux would have
 * delivered, as a shell does for a killed process.  See toro(7).
 */
#ifndef TORO_STATUS_H
#define TORO_STATUS_H

#define TORO_EXIT_SIGILL	132	/* invalid opcode (#UD) */
#define TORO_EXIT_SIGTRAP	133	/* breakpoint or debug trap (#BP, #DB) */
#define TORO_EXIT_SIGABRT	134	/* abort() */
#define TORO_EXIT_SIGBUS	135	/* alignment check (#AC) */
#define TORO_EXIT_SIGFPE	136	/* divide error, x87 or SIMD fault */
#define TORO_EXIT_SIGSEGV	139	/* page fault, #GP, #SS: bad memory access */
#define TORO_EXIT_PANIC		125	/* kernel panic, bad boot data, #DF, #MC */

#endif
