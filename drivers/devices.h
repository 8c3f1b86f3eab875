/*
 * Device discovery, in the order the kernel needs it: firmware tables
 * before vm_init() (devices_discover(), which still sees page 0), buses
 * and drivers once every CPU is up (devices_probe()), so that each
 * device's interrupt can go to the core that owns its queue.
 */
#ifndef TORO_DEVICES_H
#define TORO_DEVICES_H

struct boot_info;

void devices_discover(const struct boot_info *bi);
void devices_probe(void);

#endif
