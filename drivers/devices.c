/*
 * The order buses are probed in: the I/O APICs first (every line
 * interrupt goes through them), then PCI (legacy and modern virtio-pci),
 * then virtio-mmio (command-line devices, then the microvm window).  Disks
 * are named vda, vdb, ... in this order.  Only the order lives here; each
 * bus and driver is its own file.
 */
#include "drivers/devices.h"

#include "arch/x86_64/irq.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio.h"

void
devices_discover(const struct boot_info *bi)
{
	ioapic_discover(bi);
}

void
devices_probe(void)
{
	ioapic_init();
	pci_init(acpi_rsdp());
	virtio_pci_probe();
	virtio_mmio_probe();
}
