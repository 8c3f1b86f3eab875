/*
 * 16550 UART driver, polled.  COM1 is the console from the first C
 * instruction; it is also used to probe for COM2, which toro-run connects to
 * a file to receive the application's full exit status.  No interrupts and
 * no input yet.
 */
#include "drivers/uart16550/uart16550.h"

#include "arch/x86_64/io.h"

enum { THR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
#define LSR_THRE 0x20

bool
uart_init(uint16_t port)
{
	/* The scratch register tells a present UART from an empty port. */
	outb(port + SCR, 0x5A);
	if (inb(port + SCR) != 0x5A)
		return false;
	outb(port + IER, 0x00);
	outb(port + LCR, 0x80);		/* divisor latch */
	outb(port + 0, 0x01);		/* 115200 baud */
	outb(port + 1, 0x00);
	outb(port + LCR, 0x03);		/* 8N1 */
	outb(port + FCR, 0xC7);		/* FIFOs on, cleared */
	outb(port + MCR, 0x03);		/* DTR, RTS */
	return true;
}

void
uart_write(uint16_t port, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* Bounded wait: a wedged UART must not hang the kernel. */
		for (int spin = 0; spin < 100000; spin++)
			if (inb(port + LSR) & LSR_THRE)
				break;
		outb(port + THR, (uint8_t)buf[i]);
	}
}

void
uart_console_write(const char *buf, size_t len)
{
	uart_write(COM1_PORT, buf, len);
}
