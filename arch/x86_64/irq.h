/*
 * Device interrupts: a vector per handler, delivered to the core the
 * driver names.  irq_register() takes a free vector (0x30-0xEF) and
 * records the handler; the driver then routes its device to that vector
 * through the I/O APIC (ioapic_route(), for ISA-style and INTx lines) or
 * through MSI/MSI-X (irq_msi_message() gives the address/data pair).
 *
 * A handler runs on the target core's interrupt stack with interrupts off
 * and must not block: it acknowledges its device and wakes the threads
 * waiting (futex_wake()).  The local APIC EOI is sent after it returns.
 */
#ifndef TORO_ARCH_IRQ_H
#define TORO_ARCH_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct boot_info;

#define IRQ_VECTOR_FIRST	0x30
#define IRQ_VECTOR_LAST		0xEF

typedef void (*irq_handler_fn)(void *arg);

/*
 * A vector whose interrupts call fn(arg); cpu is the core the caller will
 * route it to (recorded for the logs).  Returns the vector or -ENOSPC.
 */
int irq_register(irq_handler_fn fn, void *arg, unsigned cpu);
void irq_unregister(int vector);
/* Called by irq_dispatch() (traps.c): true when vector had a handler. */
bool irq_handle(unsigned vector);

/* A vector's interrupts: on the core it is routed to, and on any other. */
struct irq_counts {
	unsigned long on_cpu, elsewhere;
};
/*
 * Records that vector now goes to core cpu; the caller calls it just
 * before it rewrites the route (MSI-X entry or I/O APIC pin), keeping the
 * vector, so that an interrupt already on its way to the old core still
 * finds the handler (and counts as elsewhere).  *was gets the counts
 * since the previous routing, and they start again from zero.
 */
void irq_set_cpu(int vector, unsigned cpu, struct irq_counts *was);

/* The APIC id of online core cpu (the boot core if cpu is not online). */
uint32_t irq_cpu_apic_id(unsigned cpu);
/* A core to deliver to: cpu if online, else the boot core (0). */
unsigned irq_cpu_or_boot(unsigned cpu);
/* The MSI address and data that deliver vector to core cpu (fixed, edge). */
void irq_msi_message(unsigned cpu, unsigned vector, uint64_t *addr,
		     uint32_t *data);

/*
 * I/O APICs (ioapic.c).  ioapic_discover() reads the MADT (or assumes one
 * I/O APIC at 0xFEC00000 with GSIs from 0, as on microvm without ACPI)
 * before vm_init(); ioapic_init() maps them and masks every pin.
 */
void ioapic_discover(const struct boot_info *bi);
void ioapic_init(void);
/* Whether the firmware described the machine through ACPI. */
bool acpi_present(void);
/* The RSDP found at discovery time (0 without ACPI). */
uint64_t acpi_rsdp(void);
/*
 * Routes global system interrupt gsi to vector on core cpu, unmasked;
 * level/active_low as the line needs.  -ENODEV if no I/O APIC has it.
 */
int ioapic_route(uint32_t gsi, unsigned vector, unsigned cpu, bool level,
		 bool active_low);
/* Delivers gsi, routed already, to core cpu instead; -ENODEV if unknown. */
int ioapic_set_cpu(uint32_t gsi, unsigned cpu);
void ioapic_mask(uint32_t gsi);
/*
 * An ISA IRQ's GSI and signalling after the MADT's overrides (ISA
 * default: same number, edge, active high).
 */
void ioapic_isa_irq(unsigned irq, uint32_t *gsi, bool *level, bool *active_low);
/* The I/O APICs found: how many, and whether one starts at GSI base. */
unsigned ioapic_count(void);
bool ioapic_has_gsi_base(uint32_t base);

#endif
