/* 16550 UART: the serial console (COM1) and its probe. */
#ifndef TORO_UART16550_H
#define TORO_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1_PORT 0x3F8
#define COM2_PORT 0x2F8

/* Programs the UART at port; returns false when no UART answers there. */
bool uart_init(uint16_t port);
void uart_write(uint16_t port, const char *buf, size_t len);
/* Console sink writing to COM1. */
void uart_console_write(const char *buf, size_t len);

#endif
