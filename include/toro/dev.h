/*
 * toro/dev.h - which core serves a device.
 *
 * A device's queues are dedicated to one core: its completion interrupts
 * arrive there and the driver's completion work (waking the threads that
 * wait for the device) runs there; threads on any core may still submit
 * requests.  Every device starts on core 0 (virtio-blk disks on the core
 * the kernel option virtio_blk.cpu= names) unless the kernel option
 * dedicate=NAME:CPU says otherwise.  These calls move a device to
 * another core while it runs, without losing a completion, and tell
 * where it is.  Devices go by the names the rest of the API uses: the
 * disks "vda", "vdb", ... (toro/blk.h) and the virtio console "hvc0".
 * See toro_dev(3).
 */
#ifndef TORO_DEV_H
#define TORO_DEV_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Dedicates the device called device to core cpu.  Returns 0 or an errno
 * value (not -1/errno): ENODEV no device of that name, EINVAL cpu is not
 * an online core or device is not a string the program may read.
 */
int toro_dedicate(const char *device, int cpu);
/*
 * The core the device is dedicated to (0 or more), or a negative errno
 * value: -ENODEV no device of that name, -EINVAL device is not a string
 * the program may read.
 */
int toro_dedicated_cpu(const char *device);

#ifdef __cplusplus
}
#endif

#endif
